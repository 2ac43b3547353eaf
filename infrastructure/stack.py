"""Turnstile's AWS stack: the Chalice API, the table, queues, bucket, worker Lambdas and alarms.

Every table, queue and bucket is built from `chalicelib.shared.resources`, the module the local stack
bootstraps from, so the two cannot drift apart. Names are prefixed per stage (`turnstile-dev-...`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from chalice import api as chalice_api
from chalice.cdk import Chalice
from chalice.config import Config as ChaliceConfig
from chalice.deploy.packager import PipRunner
from constructs import Construct

from chalicelib.imports.domain import UPLOADS_PREFIX
from chalicelib.shared import resources
from chalicelib.shared import table as keys
from chalicelib.shared.caller import ADMINS, ORGANIZERS
from chalicelib.shared.http import UNKNOWN_ROUTE
from infrastructure.packaging import LAMBDA_PYTHON, ROOT, build_worker_package
from infrastructure.stages import StageOptions

RUNTIME = lambda_.Runtime.PYTHON_3_12
assert RUNTIME.name == f"python{LAMBDA_PYTHON}"
METRICS_NAMESPACE = "Turnstile"
TABLE_STREAM = "table-stream"  # a worker fed by the table's DynamoDB stream, not a queue
SCHEDULE = "schedule"  # a worker run by an EventBridge schedule
# Stream batches the relay gave up on (after retries and bisection) are described here. It only
# exists in AWS (the local stack has no stream mappings), so it is not in chalicelib.resources.
RELAY_FAILURES = "webhook-relay-failures"
# The partition keys the webhook dispatcher may read and update: subscriptions and deliveries.
DISPATCHER_KEYS = [keys.webhook_pk("*"), keys.delivery_pk("*")]
PER_GROUP = sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID


def _problem(status: str | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """An API Gateway response (throttled, unknown route, too large...) as problem+json. (A
    gateway response cannot name its own status code, so the generic body has no `status`.)"""
    generic = {
        "type": "about:blank",
        "title": "$context.error.responseType",
        "detail": "$context.error.message",
    }
    response: dict[str, Any] = {
        "ResponseParameters": {"Headers": {"Content-Type": "'application/problem+json'"}},
        "ResponseTemplates": {"application/json": json.dumps(body or generic)},
    }
    if status:
        response["StatusCode"] = status
    return response


# Errors API Gateway answers itself (before the app runs) keep the API's error format. An unknown
# route is API Gateway's MISSING_AUTHENTICATION_TOKEN (403): a 404, as the app says locally.
GATEWAY_RESPONSES = {
    "DEFAULT_4XX": _problem(),
    "DEFAULT_5XX": _problem(),
    "MISSING_AUTHENTICATION_TOKEN": _problem("404", UNKNOWN_ROUTE),
}


TOO_MANY = "too-many-requests"
TOO_MANY_BODY = {
    "type": "about:blank",
    "title": "Too Many Requests",
    "status": 429,
    "detail": "Too many requests from this caller; wait a minute and slow down.",
}


def _rate_rule(
    name: str,
    priority: int,
    per_minute: int,
    scope: dict[str, Any],
    custom_keys: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A WAF rate-based rule: at most `per_minute` requests in a one-minute window per key (a
    custom key, or the source IP) among the requests `scope` matches; past it, 429."""
    statement: dict[str, Any] = {
        "limit": per_minute,
        "evaluationWindowSec": 60,
        "aggregateKeyType": "CUSTOM_KEYS" if custom_keys else "IP",
        "scopeDownStatement": scope,
    }
    if custom_keys:
        statement["customKeys"] = custom_keys
    block = {
        "customResponse": {
            "responseCode": 429,
            "customResponseBodyKey": TOO_MANY,
            "responseHeaders": [{"name": "Retry-After", "value": "60"}],
        }
    }
    return {
        "name": name,
        "priority": priority,
        "statement": {"rateBasedStatement": statement},
        "action": {"block": block},
        "visibilityConfig": _visibility(f"turnstile-{name}"),
    }


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudWatchMetricsEnabled": True, "metricName": metric, "sampledRequestsEnabled": True}


@dataclass(frozen=True)
class AwsBudget:
    """How long one AWS call may take, retries included: attempts x (connect + read) seconds."""

    connect: float
    read: float
    attempts: int

    @property
    def worst_case_seconds(self) -> float:
        return self.attempts * (self.connect + self.read)

    def environment(self) -> dict[str, str]:
        return {
            "TURNSTILE_AWS_CONNECT_TIMEOUT": f"{self.connect:g}",
            "TURNSTILE_AWS_READ_TIMEOUT": f"{self.read:g}",
            "TURNSTILE_AWS_MAX_ATTEMPTS": str(self.attempts),
        }


API_TIMEOUT_SECONDS = 15
API_BUDGET = AwsBudget(connect=1, read=3, attempts=3)  # 12 s: a 503 inside the API's 15 s
WORKER_BUDGET = AwsBudget(connect=2, read=5, attempts=3)  # 21 s: inside the workers' 30 s
REGISTRATION_BUDGET = AwsBudget(connect=0.5, read=1, attempts=2)  # 3 s: inside its 5 s


@dataclass(frozen=True)
class Worker:
    construct_id: str
    handler: str
    service: str  # POWERTOOLS_SERVICE_NAME
    source: str  # the queue it consumes (a name in resources.QUEUES), TABLE_STREAM or SCHEDULE
    retries: str | None = None  # a queue of its own failures it parks and consumes as well
    batch_size: int = 10  # records per invocation (SQS sources)
    budget: AwsBudget = WORKER_BUDGET  # how long one AWS call may take, retries included

    @property
    def timeout_seconds(self) -> int:
        """The queue's visibility timeout is six times the function timeout (AWS's advice)."""
        if self.source in (TABLE_STREAM, SCHEDULE):
            return resources.WORKER_TIMEOUT_SECONDS
        return resources.queue_named(self.source).visibility_timeout // 6


WORKERS: tuple[Worker, ...] = (
    Worker(
        "RegistrationWorker",
        "workers.registration.handler",
        "turnstile-registration-worker",
        resources.REGISTRATIONS.name,
        budget=REGISTRATION_BUDGET,
    ),
    Worker(
        "WebhooksWorker", "workers.webhooks.handler", "turnstile-webhooks-worker", resources.WEBHOOKS.name
    ),
    Worker(
        "WebhookRelay",
        "workers.webhook_relay.handler",
        "turnstile-webhook-relay",
        TABLE_STREAM,
        retries=resources.WEBHOOK_RELAY.name,
    ),
    # one import run per invocation: each message is a time-sliced slab of a long import
    Worker(
        "ImportsWorker",
        "workers.imports.handler",
        "turnstile-imports-worker",
        resources.IMPORTS.name,
        batch_size=1,
    ),
    # every minute: queues the expiry of each waitlist offer that is due into its event's group
    Worker("OfferSweep", "workers.offer_sweep.handler", "turnstile-offer-sweep", SCHEDULE),
)

WORKER_PACKAGE = ROOT / ".cache" / "lambda" / "worker-package"


class TurnstileStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, options: StageOptions, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.options = options
        self.removal = cdk.RemovalPolicy.RETAIN if options.retain_data else cdk.RemovalPolicy.DESTROY
        cdk.Tags.of(self).add("project", "turnstile")
        cdk.Tags.of(self).add("stage", options.name)

        self.table = self._table()
        self.queues = self._queues()
        self.bucket = self._bucket()
        self._notify_uploads()
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            description="Signs the opaque list cursors of the Turnstile API",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=self.removal,
        )
        self.secrets_key = kms.Key(
            self,
            "WebhookSecretsKey",
            description="Wraps the data keys that seal webhook signing secrets in the table",
            enable_key_rotation=True,
            removal_policy=self.removal,
        )
        self.users, self.api_client = self._user_pool()
        self.alarm_topic = self._alarm_topic()
        self.functions = {worker.construct_id: self._worker(worker) for worker in WORKERS}
        self._grant_workers()
        self.api = self._api()
        self._alarms()
        self._outputs()

    # --- data -----------------------------------------------------------------------------

    def _name(self, name: str) -> str:
        return f"{self.options.prefix}-{name}"

    def _table(self) -> dynamodb.Table:
        definition = resources.TABLE
        types = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
        attributes = {name: dynamodb.Attribute(name=name, type=types[t]) for name, t in
                      definition.attribute_types().items()}  # fmt: skip
        table = dynamodb.Table(
            self,
            "Table",
            table_name=self._name(definition.name),
            partition_key=attributes[definition.partition_key],
            sort_key=attributes[definition.sort_key],
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=definition.ttl_attribute,
            stream=dynamodb.StreamViewType[definition.stream_view],
            deletion_protection=self.options.retain_data,
            removal_policy=self.removal,
        )
        for index in definition.indexes:
            if index.local:
                assert index.partition_key == definition.partition_key, index
                table.add_local_secondary_index(
                    index_name=index.name,
                    sort_key=attributes[index.sort_key],
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            else:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=attributes[index.partition_key],
                    sort_key=attributes[index.sort_key],
                    projection_type=dynamodb.ProjectionType.ALL,
                )
        return table

    def _queues(self) -> dict[str, sqs.Queue]:
        """Every queue of resources.QUEUES (dead-letter queues first), plus the relay's failures."""
        dead_letter_names = {q.dead_letter for q in resources.QUEUES if q.dead_letter}
        ordered = sorted(resources.QUEUES, key=lambda q: q.name not in dead_letter_names)
        queues: dict[str, sqs.Queue] = {}
        for definition in ordered:
            is_dead_letter = definition.name in dead_letter_names
            high_throughput = definition.fifo and self.options.high_throughput_fifo and not is_dead_letter
            fifo = definition.fifo or None
            queue = sqs.Queue(
                self,
                _construct_id(definition.name),
                queue_name=self._name(definition.name),
                fifo=definition.fifo or None,
                content_based_deduplication=definition.content_based_deduplication if fifo else None,
                deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP if high_throughput else None,
                fifo_throughput_limit=PER_GROUP if high_throughput else None,
                visibility_timeout=cdk.Duration.seconds(definition.visibility_timeout),
                retention_period=cdk.Duration.days(14 if is_dead_letter else 4),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=sqs.DeadLetterQueue(
                    queue=queues[definition.dead_letter], max_receive_count=definition.max_receives
                )
                if definition.dead_letter
                else None,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            for attribute, value in definition.extra.items():
                cast(sqs.CfnQueue, queue.node.default_child).add_property_override(attribute, value)
            queues[definition.name] = queue
        queues[RELAY_FAILURES] = sqs.Queue(
            self,
            _construct_id(RELAY_FAILURES),
            queue_name=self._name(RELAY_FAILURES),
            retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        return queues

    def _bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            _construct_id(resources.IMPORTS_BUCKET),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-import-payloads",
                    expiration=cdk.Duration.days(self.options.import_retention_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=self.removal,
        )

    def _notify_uploads(self) -> None:
        """A presigned upload (uploads/...) lands: S3 tells the imports queue, whose worker starts
        that import (devstack.bootstrap sets up the same notification locally)."""
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(self.queues[resources.IMPORTS.name]),
            s3.NotificationKeyFilter(prefix=UPLOADS_PREFIX),
        )

    # --- identity ---------------------------------------------------------------------------

    def _user_pool(self) -> tuple[cognito.UserPool, cognito.UserPoolClient]:
        """Who may call the API: Cognito users; `organizers` and `admins` are groups (the
        `cognito:groups` claim). Attendees sign themselves up; admins add organizers."""
        pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=self._name("users"),
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            deletion_protection=self.options.retain_data,
            removal_policy=self.removal,
        )
        for group, description in (
            (ORGANIZERS, "Publish events; manage their attendees, imports and webhooks"),
            (ADMINS, "Do anything"),
        ):
            cognito.CfnUserPoolGroup(
                self, f"{group.title()}Group", user_pool_id=pool.user_pool_id, group_name=group,
                description=description,
            )  # fmt: skip
        client = pool.add_client(
            "ApiClient",
            user_pool_client_name=self._name("api"),
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            access_token_validity=cdk.Duration.hours(1),
            id_token_validity=cdk.Duration.hours(1),
        )
        return pool, client

    def _auth_environment(self) -> dict[str, str]:
        """What the API verifies tokens against (chalicelib.shared.auth)."""
        # exactly the `iss` of the pool's tokens
        issuer = f"https://cognito-idp.{cdk.Stack.of(self).region}.amazonaws.com/{self.users.user_pool_id}"
        return {
            "TURNSTILE_JWKS": f"{issuer}/.well-known/jwks.json",
            "TURNSTILE_JWT_ISSUER": issuer,
            "TURNSTILE_JWT_AUDIENCE": self.api_client.user_pool_client_id,
        }

    # --- compute --------------------------------------------------------------------------

    def _environment(self, service: str, budget: AwsBudget) -> dict[str, str]:
        """The variables chalicelib.shared.config reads (every URL: IAM, not config, limits what is used)."""
        q = self.queues
        return {
            **budget.environment(),
            "TURNSTILE_TABLE": self.table.table_name,
            "TURNSTILE_REGISTRATIONS_QUEUE_URL": q[resources.REGISTRATIONS.name].queue_url,
            "TURNSTILE_REGISTRATIONS_DLQ_URL": q[resources.REGISTRATIONS_DLQ.name].queue_url,
            "TURNSTILE_WEBHOOKS_QUEUE_URL": q[resources.WEBHOOKS.name].queue_url,
            "TURNSTILE_WEBHOOKS_DLQ_URL": q[resources.WEBHOOKS_DLQ.name].queue_url,
            "TURNSTILE_WEBHOOK_RELAY_QUEUE_URL": q[resources.WEBHOOK_RELAY.name].queue_url,
            "TURNSTILE_WEBHOOK_SECRETS_KEY": self.secrets_key.key_arn,
            "TURNSTILE_IMPORTS_QUEUE_URL": q[resources.IMPORTS.name].queue_url,
            "TURNSTILE_IMPORTS_DLQ_URL": q[resources.IMPORTS_DLQ.name].queue_url,
            "TURNSTILE_IMPORTS_BUCKET": self.bucket.bucket_name,
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        }

    def _log_group(self, construct_id: str, name: str) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=f"/aws/lambda/{name}",
            retention=_retention(self.options.log_retention_days),
            removal_policy=self.removal,
        )

    def _worker(self, worker: Worker) -> lambda_.Function:
        name = self._name(worker.service.removeprefix("turnstile-"))
        return lambda_.Function(
            self,
            worker.construct_id,
            function_name=name,
            description=f"Turnstile {worker.handler} ({self.options.name})",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=worker.handler,
            code=lambda_.Code.from_asset(str(_worker_package())),
            timeout=cdk.Duration.seconds(worker.timeout_seconds),
            memory_size=self.options.worker_memory_mb,
            environment=self._environment(worker.service, worker.budget),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self._log_group(f"{worker.construct_id}Logs", name),
        )

    def _queue_mapping(self, worker: Worker, queue: str | None = None) -> sources.SqsEventSource:
        return sources.SqsEventSource(
            self.queues[queue or worker.source],
            batch_size=worker.batch_size,
            report_batch_item_failures=True,
            max_concurrency=self.options.max_concurrency,
        )

    def _grant_workers(self) -> None:
        q, table, functions = self.queues, self.table, self.functions

        registration = functions["RegistrationWorker"]
        registration.add_event_source(self._queue_mapping(_worker("RegistrationWorker")))
        table.grant_read_write_data(registration)
        q[resources.REGISTRATIONS_DLQ.name].grant_send_messages(registration)  # malformed messages
        q[resources.REGISTRATIONS.name].grant_send_messages(registration)  # continuations of long work

        webhooks = functions["WebhooksWorker"]  # the dispatcher: outbound HTTPS (no VPC)
        webhooks.add_event_source(self._queue_mapping(_worker("WebhooksWorker")))
        # The one function that calls tenant-chosen hosts reads and updates subscriptions and
        # deliveries, by key, and nothing else of the table.
        webhooks.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": DISPATCHER_KEYS}},
            )
        )
        q[resources.WEBHOOKS_DLQ.name].grant_send_messages(webhooks)
        q[resources.WEBHOOKS.name].grant_send_messages(webhooks)  # the next attempt, delayed
        self.secrets_key.grant_decrypt(webhooks)  # opens the signing secrets it signs with
        # asks the user pool whether an all-events subscription's owner is still an admin
        webhooks.add_environment("TURNSTILE_USER_POOL_ID", self.users.user_pool_id)
        webhooks.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cognito-idp:AdminListGroupsForUser"], resources=[self.users.user_pool_arn]
            )
        )

        relay = functions["WebhookRelay"]  # table stream (outbox) -> webhooks queue
        # A change it fails on is parked whole on its own queue, which it consumes as well; the
        # stream's failure destination (pointers only) is the last resort, when parking fails.
        relay.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=100,
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=cdk.Duration.hours(24),
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(q[RELAY_FAILURES]),
            )
        )
        relay_worker = _worker("WebhookRelay")
        relay.add_event_source(self._queue_mapping(relay_worker, relay_worker.retries))
        table.grant_read_write_data(relay)  # subscriptions, delivery records
        q[resources.WEBHOOKS.name].grant_send_messages(relay)
        q[resources.WEBHOOK_RELAY.name].grant_send_messages(relay)

        imports = functions["ImportsWorker"]
        imports.add_event_source(self._queue_mapping(_worker("ImportsWorker")))
        table.grant_read_write_data(imports)  # progress, request records
        q[resources.IMPORTS_DLQ.name].grant_send_messages(imports)
        q[resources.REGISTRATIONS.name].grant_send_messages(imports)
        q[resources.IMPORTS.name].grant_send_messages(imports)  # continues a long import in a new run
        imports.add_to_role_policy(
            # reads the uploaded payload; writes its plan of valid rows (imports/{id}/plan.json)
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"], resources=[self.bucket.arn_for_objects("*")]
            )
        )

        sweep = functions["OfferSweep"]
        events.Rule(
            self,
            "OfferSweepSchedule",
            rule_name=self._name("offer-sweep"),
            description="Queue the expiry of every waitlist offer that is due (Turnstile)",
            schedule=events.Schedule.rate(cdk.Duration.minutes(resources.OFFER_SWEEP_MINUTES)),
            targets=[targets.LambdaFunction(sweep, retry_attempts=0)],  # the next run retries
        )
        sweep.add_to_role_policy(  # reads the open-offers index, and nothing else of the table
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{keys.GSI3}"]
            )
        )
        q[resources.REGISTRATIONS.name].grant_send_messages(sweep)

    def _api(self) -> Chalice:
        role = iam.Role(
            self,
            "ApiRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Turnstile API (Chalice)",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")
            ],
        )
        self.table.grant_read_write_data(role)
        self.queues[resources.REGISTRATIONS.name].grant_send_messages(role)
        self.queues[resources.IMPORTS.name].grant_send_messages(role)
        self.queues[resources.WEBHOOKS.name].grant_send_messages(role)  # webhook service deliveries
        imports_objects = self.bucket.arn_for_objects("*")
        role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[imports_objects]))
        tracing = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        role.add_to_policy(iam.PolicyStatement(actions=tracing, resources=["*"]))
        self.api_role = role
        environment = self._environment("turnstile-api", API_BUDGET)
        environment["TURNSTILE_CURSOR_SECRET_ARN"] = self.cursor_secret.secret_arn  # read at start-up
        self.cursor_secret.grant_read(role)
        self.secrets_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")  # seals, opens secrets
        environment.update(self._auth_environment())
        api = ChaliceApi(
            self,
            "Api",
            source_dir=str(ROOT),
            stage_config={
                "manage_iam_role": False,
                "iam_role_arn": role.role_arn,
                "autogen_policy": False,
                "environment_variables": environment,
                "lambda_memory_size": self.options.api_memory_mb,
                "lambda_timeout": API_TIMEOUT_SECONDS,
                "xray": True,
            },
        )
        rest_api = api.get_resource("RestAPI")
        rest_api.add_property_override("MethodSettings", [{
            "ResourcePath": "/*", "HttpMethod": "*",
            "ThrottlingRateLimit": self.options.throttle_rate,
            "ThrottlingBurstLimit": self.options.throttle_burst,
        }])  # fmt: skip
        rest_api.add_property_override("GatewayResponses", GATEWAY_RESPONSES)
        handler = api.get_resource("APIHandler")
        handler.add_property_override("ReservedConcurrentExecutions", self.options.api_reserved_concurrency)
        self._firewall(rest_api)
        return api

    def _firewall(self, rest_api: cdk.CfnResource) -> wafv2.CfnWebACL:
        """WAF in front of the API stage: per-caller rate limits (by bearer token; by IP for
        callers without one), answered 429 with a problem body, per stage."""
        has_token = {
            "sizeConstraintStatement": {
                "fieldToMatch": {"singleHeader": {"Name": "authorization"}},  # JSON as CloudFormation has it
                "comparisonOperator": "GT",
                "size": 0,
                "textTransformations": [{"priority": 0, "type": "NONE"}],
            }
        }
        by_token = [
            {"header": {"name": "authorization", "textTransformations": [{"priority": 0, "type": "NONE"}]}}
        ]
        rules = [
            _rate_rule(
                "PerCaller", 0, self.options.requests_per_caller_minute, has_token, custom_keys=by_token
            ),
            _rate_rule(
                "PerAnonymousIp",
                1,
                self.options.requests_per_anonymous_ip_minute,
                {"notStatement": {"statement": has_token}},
            ),
        ]
        acl = wafv2.CfnWebACL(
            self,
            "ApiFirewall",
            name=self._name("api"),
            scope="REGIONAL",
            default_action={"allow": {}},
            rules=rules,
            custom_response_bodies={
                TOO_MANY: {"contentType": "APPLICATION_JSON", "content": json.dumps(TOO_MANY_BODY)}
            },
            visibility_config=_visibility("turnstile-api"),
        )
        stage_name = cdk.Fn.ref(f"{rest_api.logical_id}.Stage")  # SAM's reference to the API's stage
        api_arn = f"arn:{cdk.Aws.PARTITION}:apigateway:{cdk.Aws.REGION}::/restapis/{rest_api.ref}"
        stage = cdk.Fn.join("", [api_arn, "/stages/", stage_name])
        wafv2.CfnWebACLAssociation(
            self, "ApiFirewallAssociation", resource_arn=stage, web_acl_arn=acl.attr_arn
        )
        return acl

    # --- operations -----------------------------------------------------------------------

    def _alarm_topic(self) -> sns.Topic:
        topic = sns.Topic(self, "Alarms", topic_name=self._name("alarms"), enforce_ssl=True)
        email = self.node.try_get_context("alarmEmail")
        if email:
            topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic

    def _alarm(self, construct_id: str, name: str, metric: cloudwatch.Metric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_name=self._name(name),
            alarm_description=description,
            threshold=0,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))

    def _alarms(self) -> None:
        dead_letters = [q.dead_letter for q in resources.QUEUES if q.dead_letter] + [RELAY_FAILURES]
        for name in dead_letters:
            depth = self.queues[name].metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic="Maximum"
            )
            self._alarm(
                f"{_construct_id(name)}Depth", f"{name.removesuffix('.fifo')}-depth", depth,
                f"Messages in {name}: inspect with `make dlq` and redrive once fixed",
            )  # fmt: skip
        for worker in WORKERS:
            errors = self.functions[worker.construct_id].metric_errors(
                period=cdk.Duration.minutes(5), statistic="Sum"
            )
            self._alarm(f"{worker.construct_id}Errors", f"{worker.service}-errors", errors,
                        f"{worker.handler} raised (infrastructure failure, retried)")  # fmt: skip
        api_errors = cloudwatch.Metric(
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions_map={"FunctionName": self.api.get_resource("APIHandler").ref},
            period=cdk.Duration.minutes(5),
            statistic="Sum",
        )
        self._alarm("ApiErrors", "api-errors", api_errors, "The API Lambda raised (unhandled errors)")

    def _outputs(self) -> None:
        cdk.CfnOutput(
            self, "ApiUrl", value=self.api.sam_template.get_output("EndpointURL").value,
            description="Base URL of the API (use as --api / TURNSTILE_API_URL)",
        )  # fmt: skip
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "ImportsBucketName", value=self.bucket.bucket_name)
        for name in (resources.REGISTRATIONS.name, resources.WEBHOOKS.name, resources.IMPORTS.name):
            cdk.CfnOutput(self, f"{_construct_id(name)}Url", value=self.queues[name].queue_url)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)
        cdk.CfnOutput(self, "UserPoolId", value=self.users.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.api_client.user_pool_client_id)


class ChaliceApi(Chalice):
    """chalice.cdk's construct, packaged for the stack's Chalice stage and the workers' runtime.

    Chalice takes its stage from the scope's path and its Lambda runtime (and the wheels it
    downloads) from the Python running the synth; both are set here instead, so the API runs on
    the same Python as the workers whatever Python synthesizes it.
    """

    def _package_app(self) -> None:
        stage = cast(TurnstileStack, cdk.Stack.of(self)).options.name
        with _chalice_runtime(f"python{LAMBDA_PYTHON}"), _some_region(), _environment_kept():
            chalice_api.package_app(
                project_dir=self.source_dir,
                output_dir=self._sam_package_dir,
                stage=stage,
                chalice_config=self.stage_config,
            )


@contextmanager
def _chalice_runtime(runtime: str) -> Iterator[None]:
    """Make `chalice package` target `runtime` rather than the Python running it.

    Chalice (1.34) takes the runtime from `sys.version_info` and downloads Linux wheels with
    `pip download --abi cpXY` but without `--python-version`, so from another Python it finds no
    wheel for compiled packages (pydantic-core) and leaves them out. Both are patched for the
    duration of the packaging; tests/infra checks the result holds the right wheels.
    """
    version = runtime.removeprefix("python").replace(".", "")
    original_version = ChaliceConfig.lambda_python_version
    original_download = PipRunner.download_manylinux_wheels

    def download(
        self: PipRunner, abi: str, packages: list[str], directory: str, platforms: Any = None
    ) -> None:
        for package in packages:
            arguments = ["--only-binary=:all:", "--no-deps", "--implementation", "cp", "--abi", abi]
            for platform in platforms or ["manylinux2014_x86_64"]:
                arguments += ["--platform", platform]
            self._execute("download", [*arguments, "--python-version", version, "--dest", directory, package])

    ChaliceConfig.lambda_python_version = property(lambda _self: runtime)  # type: ignore[method-assign,assignment]
    PipRunner.download_manylinux_wheels = download  # type: ignore[method-assign]
    try:
        yield
    finally:
        ChaliceConfig.lambda_python_version = original_version  # type: ignore[method-assign]
        PipRunner.download_manylinux_wheels = original_download  # type: ignore[method-assign]


@contextmanager
def _environment_kept() -> Iterator[None]:
    """`chalice package` imports app.py with the stage's environment variables (CDK tokens such
    as `${Token[TOKEN.17]}`) copied into os.environ; put the synthesizing process's back."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _some_region() -> Iterator[None]:
    """`chalice package` builds a boto3 session and needs a region, though the package does not."""
    if os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"):
        yield
        return
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        yield
    finally:
        del os.environ["AWS_DEFAULT_REGION"]


def _worker(construct_id: str) -> Worker:
    return next(w for w in WORKERS if w.construct_id == construct_id)


def _construct_id(name: str) -> str:
    """`registrations-dlq.fifo` -> `RegistrationsDlqFifo`."""
    return "".join(part.capitalize() for part in name.replace(".", "-").split("-"))


def _retention(days: int) -> logs.RetentionDays:
    by_days = {14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
               90: logs.RetentionDays.THREE_MONTHS}  # fmt: skip
    return by_days[days]


_built: dict[str, Path] = {}


def _worker_package() -> Path:
    """Assembled once per process (every worker shares the one asset)."""
    if "package" not in _built:
        _built["package"] = build_worker_package(WORKER_PACKAGE)
    return _built["package"]


def handlers_in(template: dict) -> set[str]:
    """The worker handlers of a synthesized template (functions whose handler is in workers/)."""
    return {
        resource["Properties"]["Handler"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler", "").startswith("workers.")
    }


def dump(template: dict, path: Path) -> Path:
    path.write_text(json.dumps(template, indent=1))
    return path
