"""The S3 destination: botocore with credentials on this computer."""
