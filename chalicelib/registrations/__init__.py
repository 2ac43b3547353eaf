"""Registrations: requests accepted by the API, queued per event, decided by the worker."""
