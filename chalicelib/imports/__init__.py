"""Bulk import of registrations: rows (pure parsing and checks), ports, services, adapters.

The API stores the payload and queues a start message; the import worker validates the rows,
creates missing users, and feeds `register` commands into `registrations.fifo` in the event's
group, with back-pressure and a checkpoint on the import item (`IMPORT#{importId}`, `META`).
"""
