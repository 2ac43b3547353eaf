"""Use cases: each service method is one thing a user can do."""
