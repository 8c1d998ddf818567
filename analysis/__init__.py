"""Computed outputs: word frequencies, word trees, agreement."""
