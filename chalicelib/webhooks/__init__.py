"""Webhook notifications: subscriptions, signed delivery, retries and the delivery log.

Pure parts (no I/O): `signing`, `policy`, `schedule`, `notifications`. Use cases: `service`.
Adapters (DynamoDB, SQS, HTTP, DNS) live in `chalicelib/adapters/webhooks.py`; the wiring in
`container`.
"""
