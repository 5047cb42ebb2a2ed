"""Organisation: branches and users."""
