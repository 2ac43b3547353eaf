"""Lambda handlers for the queue consumers. Each parses its event and calls a service."""
