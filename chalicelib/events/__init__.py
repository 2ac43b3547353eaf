"""Events: what organizers publish (create, read, list by date or status, edit)."""
