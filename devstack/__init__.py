"""The local stack: DynamoDB Local, moto server, the API under chalice local, the queue runner.

`python -m devstack` (what `make dev` runs) starts all of it; the tests use the same pieces.
"""
