"""Repairs: the fix engine's guards (more of fixes/ moves here with the stage layout)."""
