"""Pure-Python inter-coder agreement statistics (no Django, standard library only)."""
