"""Qt-free recording core: nothing here imports PySide6 (DESIGN §2)."""
