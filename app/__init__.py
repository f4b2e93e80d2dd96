"""sessionrec: record screen sessions and upload them to S3."""

__version__ = "0.1.0"
