"""The local stack: DynamoDB Local, LocalStack (SQS, S3), the API under chalice local, the functions.

`python -m devstack` (what `make dev` runs) starts all of it; the tests use the same pieces.
"""
