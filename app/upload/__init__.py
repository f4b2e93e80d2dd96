"""Qt-free upload core; qt_*.py files are the only Qt here (DESIGN §2)."""
