"""Adapters: the ports implemented with boto3 (DynamoDB, SQS) and in memory for tests."""
