"""Qt widgets: they show models and send intents; no blocking work on the GUI thread."""
