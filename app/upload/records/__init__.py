"""The file record: one JSON document per verified upload, delivered until accepted."""
