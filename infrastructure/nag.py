"""cdk-nag's AwsSolutions checks on the stack, and each finding we accept, with why.

`make synth` (infrastructure/app.py) and tests/infra/test_nag.py apply them: an unsuppressed
finding is an error annotation, which fails the synth. A new finding is fixed or added here with
its reason; nothing is suppressed for the whole stack without naming the resource.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NagPackSuppression, NagSuppressions

from infrastructure.stack import RELAY_FAILURES, WORKERS, TurnstileStack

RUNTIME = (
    "AwsSolutions-L1",
    "Python 3.12 is pinned on purpose: the worker package's wheels are built for it "
    "(infrastructure/packaging.py); moving runtimes is a tested change, not a default.",
)
BASIC_EXECUTION = (
    "AwsSolutions-IAM4",
    "AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes (CreateLogStream, "
    "PutLogEvents), which every function needs; it is AWS's maintained minimum for it.",
)
XRAY = (
    "AwsSolutions-IAM5",
    "X-Ray's PutTraceSegments and PutTelemetryRecords (and DynamoDB ListStreams) take no resource "
    "ARN: '*' is the only resource IAM accepts for them.",
    ["Resource::*"],
)
TABLE_INDEXES = (
    "AwsSolutions-IAM5",
    "index/* is this table's own indexes (GSI1, GSI2, LSI1), which its queries read.",
    ["Resource::<TableCD117FA1.Arn>/index/*"],
)
IMPORT_OBJECTS = (
    "AwsSolutions-IAM5",
    "Objects of the imports bucket only (payloads and plans keyed by import id).",
    ["Resource::<TurnstileImportsE9C758BF.Arn>/*"],
)


def check(stack: TurnstileStack) -> None:
    """Run AwsSolutions checks on `stack`, with the suppressions below."""
    _suppress(stack)
    cdk.Aspects.of(stack).add(AwsSolutionsChecks(verbose=True))


def _suppress(stack: TurnstileStack) -> None:
    roles = [stack.functions[w.construct_id] for w in WORKERS]
    for function in roles:
        _on(function, RUNTIME, BASIC_EXECUTION, XRAY, TABLE_INDEXES, IMPORT_OBJECTS)
    _on(stack.node.find_child("ApiRole"), BASIC_EXECUTION, XRAY, TABLE_INDEXES, IMPORT_OBJECTS)
    for child in stack.node.children:  # CDK's own function that sets the bucket's notifications
        if child.node.id.startswith("BucketNotificationsHandler"):
            _on(child, BASIC_EXECUTION)
    _on(
        stack.queues[RELAY_FAILURES],
        (
            "AwsSolutions-SQS3",
            "It is a dead-letter queue: the table stream's on-failure destination (an event "
            "source mapping's destination, which cdk-nag does not recognise as a DLQ).",
        ),
    )
    _on(
        stack.bucket,
        (
            "AwsSolutions-S1",
            "Holds short-lived import payloads (expired by a lifecycle rule) that only the API "
            "and the import worker touch; object access is in CloudTrail if enabled for the account.",
        ),
    )
    _on(
        stack.cursor_secret,
        (
            "AwsSolutions-SMG4",
            "Rotating the cursor-signing key invalidates every open listing cursor; it is rotated "
            "by hand (README, Deploying to AWS), not on a schedule.",
        ),
    )
    _on(
        stack.users,
        (
            "AwsSolutions-COG2",
            "MFA is optional (TOTP) so attendees can sign up without it; admins should enable it.",
        ),
        (
            "AwsSolutions-COG8",
            "The Plus feature plan (threat protection) is a per-user cost left to the operator.",
        ),
    )


def _on(construct: Any, *rules: tuple[Any, ...]) -> None:
    suppressions = [
        NagPackSuppression(id=rule[0], reason=rule[1], applies_to=rule[2] if len(rule) > 2 else None)
        for rule in rules
    ]
    NagSuppressions.add_resource_suppressions(construct, suppressions, apply_to_children=True)
