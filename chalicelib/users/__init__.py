"""Users: the people who register for events."""
