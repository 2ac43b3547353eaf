"""Webhook notifications: subscriptions, signed delivery, retries and the delivery log.

Pure parts (no I/O): `domain`, `signing`, `policy`, `schedule`, `notifications`. Use cases:
`service`. Adapters: `dynamodb`, `sqs`, `http` (DNS and the POST), `memory`. Wiring: bootstrap.
"""
