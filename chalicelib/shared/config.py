"""Settings read from the environment, once, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib.shared import resources


@dataclass(frozen=True)
class Settings:
    table_name: str
    registrations_queue_url: str
    registrations_dlq_url: str
    cursor_secret: str = field(repr=False)  # signs list cursors; on AWS read from the ARN below
    region: str
    webhooks_queue_url: str = ""
    # On AWS: the Secrets Manager secret holding the cursor-signing key (read once at start-up by
    # bootstrap.build, so the key is never in the function's configuration).
    cursor_secret_arn: str = ""
    imports_queue_url: str = ""
    imports_bucket: str = resources.IMPORTS_BUCKET
    # Local stack only: let webhook subscriptions target loopback (refused in AWS stages).
    allow_loopback_webhooks: bool = False
    # Local stack only: webhook URLs over plain http (deployed stages take https only).
    allow_http_webhooks: bool = False
    webhooks_dlq_url: str = ""
    # Seals webhook signing secrets at rest (chalicelib/webhooks/sealing.py): a KMS key id or ARN
    # on AWS, `local:<base64 32-byte key>` on the local stack.
    webhook_secrets_key: str = field(default="", repr=False)
    # Changes the webhook relay failed on, parked for another try (workers/webhook_relay.py).
    webhook_relay_queue_url: str = ""
    # Waits before webhook attempts 2, 3, ... (chalicelib/webhooks/schedule.py); about a day.
    webhook_retry_schedule: str = "5s,1m,5m,30m,2h,5h,8h,8h"
    # A subscription whose deliveries fail this many times in a row is disabled.
    webhook_disable_after_failures: int = 5
    # Bearer tokens: where the signing keys are (Cognito's JWKS URL, or the local stack's JWKS
    # file), and the issuer and audience (app client id) a token must name. No keys: no token is
    # valid, so only the anonymous routes answer.
    jwks: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    # The Cognito user pool the tokens come from: the webhook dispatcher asks it who is an admin
    # now. None locally (the local stack's tokens carry their groups; nobody to ask).
    user_pool_id: str = ""
    # Every AWS call: connect and read timeouts (seconds) and attempts (retries included). The
    # worst case, attempts x (connect + read), must fit the function's timeout (the CDK app sets
    # tighter values for the API, whose Lambda times out at 15 s).
    aws_connect_timeout: float = 2.0
    aws_read_timeout: float = 5.0
    aws_max_attempts: int = 3
    # Import worker: rows of one import enqueued but undecided at most; seconds per run; seconds
    # without progress before an import is failed (chalicelib/imports/service.py).
    import_max_in_flight: int = 30
    import_slice_seconds: float = 60.0
    import_stall_seconds: float = 900.0

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            table_name=os.environ.get("TURNSTILE_TABLE", resources.TABLE.name),
            registrations_queue_url=os.environ.get("TURNSTILE_REGISTRATIONS_QUEUE_URL", ""),
            registrations_dlq_url=os.environ.get("TURNSTILE_REGISTRATIONS_DLQ_URL", ""),
            cursor_secret=os.environ.get("TURNSTILE_CURSOR_SECRET", "turnstile-local-cursor-key"),
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            webhooks_queue_url=os.environ.get("TURNSTILE_WEBHOOKS_QUEUE_URL", ""),
            cursor_secret_arn=os.environ.get("TURNSTILE_CURSOR_SECRET_ARN", ""),
            imports_queue_url=os.environ.get("TURNSTILE_IMPORTS_QUEUE_URL", ""),
            imports_bucket=os.environ.get("TURNSTILE_IMPORTS_BUCKET", resources.IMPORTS_BUCKET),
            allow_loopback_webhooks=os.environ.get("TURNSTILE_ALLOW_LOOPBACK_WEBHOOKS") == "true",
            allow_http_webhooks=os.environ.get("TURNSTILE_ALLOW_HTTP_WEBHOOKS") == "true",
            webhooks_dlq_url=os.environ.get("TURNSTILE_WEBHOOKS_DLQ_URL", ""),
            webhook_relay_queue_url=os.environ.get("TURNSTILE_WEBHOOK_RELAY_QUEUE_URL", ""),
            webhook_secrets_key=os.environ.get("TURNSTILE_WEBHOOK_SECRETS_KEY", ""),
            webhook_retry_schedule=os.environ.get(
                "TURNSTILE_WEBHOOK_RETRY_SCHEDULE", "5s,1m,5m,30m,2h,5h,8h,8h"
            ),
            webhook_disable_after_failures=int(os.environ.get("TURNSTILE_WEBHOOK_DISABLE_AFTER", "5")),
            jwks=os.environ.get("TURNSTILE_JWKS", ""),
            jwt_issuer=os.environ.get("TURNSTILE_JWT_ISSUER", ""),
            jwt_audience=os.environ.get("TURNSTILE_JWT_AUDIENCE", ""),
            user_pool_id=os.environ.get("TURNSTILE_USER_POOL_ID", ""),
            aws_connect_timeout=float(os.environ.get("TURNSTILE_AWS_CONNECT_TIMEOUT", "2")),
            aws_read_timeout=float(os.environ.get("TURNSTILE_AWS_READ_TIMEOUT", "5")),
            aws_max_attempts=int(os.environ.get("TURNSTILE_AWS_MAX_ATTEMPTS", "3")),
            import_max_in_flight=int(os.environ.get("TURNSTILE_IMPORT_MAX_IN_FLIGHT", "30")),
            import_slice_seconds=float(os.environ.get("TURNSTILE_IMPORT_SLICE_SECONDS", "60")),
            import_stall_seconds=float(os.environ.get("TURNSTILE_IMPORT_STALL_SECONDS", "900")),
        )


class Misconfigured(RuntimeError):
    """A deployed function whose settings would make it unsafe: it refuses to start instead."""


def on_aws() -> bool:
    """Running in Lambda (which sets the function's name), not on the local stack or in tests."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def require_deployed_keys(config: Settings, serves_api: bool) -> None:
    """On AWS nothing falls back to the local stack's conveniences: webhook secrets are sealed
    with a KMS key (never stored unsealed, never under a key kept in the configuration), and the
    API signs list cursors with the key from Secrets Manager (never the public local default)."""
    key = config.webhook_secrets_key
    if not key or key.startswith("local:"):
        raise Misconfigured("TURNSTILE_WEBHOOK_SECRETS_KEY must name a KMS key on AWS")
    if serves_api and not config.cursor_secret_arn:
        raise Misconfigured("TURNSTILE_CURSOR_SECRET_ARN must name the cursor-signing secret on AWS")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environment()
