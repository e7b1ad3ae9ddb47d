"""Tail statistics and regime labels of runs (placeholder, filled below)."""
