"""The serial upload queue: one session at a time, backoff, restore, one owner per data folder."""
