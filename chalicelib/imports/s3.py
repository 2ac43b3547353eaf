"""Import payloads in S3."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.shared.dynamo import error_code


class S3PayloadStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error_code(error) in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise
