"""Qt-free playback core: what the session viewer shows, read from the session files."""
