"""Create the table and queues of chalicelib/resources.py on the emulators (idempotent)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.imports.domain import UPLOADS_PREFIX
from chalicelib.shared import resources
from chalicelib.shared.resources import QueueDefinition, TableDefinition


def create_table(dynamodb: Any, table: TableDefinition) -> None:
    globals_ = [i for i in table.indexes if not i.local]
    locals_ = [i for i in table.indexes if i.local]
    request: dict[str, Any] = {
        "TableName": table.name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": kind} for name, kind in table.attribute_types().items()
        ],
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": table.stream_view},
    }
    if globals_:
        request["GlobalSecondaryIndexes"] = [_index(i) for i in globals_]
    if locals_:
        request["LocalSecondaryIndexes"] = [_index(i) for i in locals_]
    try:
        dynamodb.create_table(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(TableName=table.name)


def _key_schema(partition: str, sort: str) -> list[dict[str, str]]:
    return [{"AttributeName": partition, "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}]


def _index(index: resources.Index) -> dict[str, Any]:
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.partition_key, index.sort_key),
        "Projection": {"ProjectionType": "ALL"},
    }


def create_queues(sqs: Any, queues: tuple[QueueDefinition, ...]) -> dict[str, str]:
    """Create each queue (dead-letter queues first); returns name -> URL."""
    urls: dict[str, str] = {}
    for queue in queues:
        attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
        if queue.fifo:
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(queue.content_based_deduplication).lower()
        if queue.dead_letter:
            dlq_arn = sqs.get_queue_attributes(QueueUrl=urls[queue.dead_letter], AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receives}
            )
        urls[queue.name] = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
    return urls


def create_bucket(s3: Any, name: str) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def notify_uploads(s3: Any, sqs: Any, bucket: str, queue_url: str) -> None:
    """A presigned upload (uploads/...) lands: S3 tells the imports queue, which starts it (the
    CDK app sets up the same notification on AWS)."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    uploads = {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOADS_PREFIX}]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": uploads}]
        },
    )


def bootstrap(dynamodb: Any, sqs: Any, s3: Any) -> dict[str, str]:
    create_table(dynamodb, resources.TABLE)
    create_bucket(s3, resources.IMPORTS_BUCKET)
    urls = create_queues(sqs, resources.QUEUES)
    notify_uploads(s3, sqs, resources.IMPORTS_BUCKET, urls[resources.IMPORTS.name])
    return urls
