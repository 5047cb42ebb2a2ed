"""Views of this package (none yet)."""
