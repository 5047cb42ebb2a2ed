"""Front-line pages."""
