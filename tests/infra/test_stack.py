"""The synthesized CloudFormation template: what `cdk deploy` would create, asserted offline."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_cdk.assertions import Match

from chalicelib.shared import resources
from infrastructure.stack import RELAY_FAILURES, SCHEDULE, TABLE_STREAM, WORKERS

DEAD_LETTERS = [q.dead_letter for q in resources.QUEUES if q.dead_letter]


def _queue_id(syn, name: str) -> str:
    return syn.logical_id(syn.stack.queues[name])


def _function_id(syn, construct_id: str) -> str:
    return syn.logical_id(syn.stack.functions[construct_id])


def test_table_is_built_from_the_definitions_module(dev) -> None:
    table = resources.TABLE
    props = next(iter(dev.resources("AWS::DynamoDB::Table").values()))["Properties"]
    assert props["TableName"] == f"turnstile-dev-{table.name}"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": resources.TTL_ATTRIBUTE, "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": table.stream_view}
    assert props["KeySchema"] == [
        {"AttributeName": table.partition_key, "KeyType": "HASH"},
        {"AttributeName": table.sort_key, "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == (
        table.attribute_types()
    )
    declared = {i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])}
    declared |= {i["IndexName"] for i in props.get("LocalSecondaryIndexes", [])}
    assert declared == {index.name for index in table.indexes}


def test_prod_keeps_its_data(prod) -> None:
    prod.template.has_resource(
        "AWS::DynamoDB::Table",
        {"DeletionPolicy": "Retain", "Properties": Match.object_like({"DeletionProtectionEnabled": True})},
    )
    prod.template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})


def test_every_queue_with_its_fifo_and_dead_letter_settings(dev) -> None:
    queues = dev.resources("AWS::SQS::Queue")
    for definition in resources.QUEUES:
        props = queues[_queue_id(dev, definition.name)]["Properties"]
        assert props["QueueName"] == f"turnstile-dev-{definition.name}"
        assert props.get("FifoQueue", False) is definition.fifo
        assert props["VisibilityTimeout"] == definition.visibility_timeout
        assert props["SqsManagedSseEnabled"] is True
        if definition.dead_letter:
            redrive = props["RedrivePolicy"]
            assert redrive["maxReceiveCount"] == definition.max_receives
            dlq = _queue_id(dev, definition.dead_letter)
            assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq, "Arn"]}
        else:
            assert "RedrivePolicy" not in props
    registrations = queues[_queue_id(dev, resources.REGISTRATIONS.name)]["Properties"]
    assert registrations["RedrivePolicy"]["maxReceiveCount"] == 5
    assert "DeduplicationScope" not in registrations  # high throughput is a prod option


def test_high_throughput_fifo_in_prod(prod) -> None:
    props = prod.resources("AWS::SQS::Queue")[_queue_id(prod, resources.REGISTRATIONS.name)]["Properties"]
    assert props["DeduplicationScope"] == "messageGroup"
    assert props["FifoThroughputLimit"] == "perMessageGroupId"
    assert props["QueueName"] == "turnstile-prod-registrations.fifo"


def test_queues_enforce_tls(dev) -> None:
    for policy in dev.resources("AWS::SQS::QueuePolicy").values():
        statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(dev.resources("AWS::SQS::QueuePolicy")) == len(dev.resources("AWS::SQS::Queue"))


def _mappings_of(syn, worker) -> list[dict[str, Any]]:
    function = _function_id(syn, worker.construct_id)
    return [
        m["Properties"]
        for m in syn.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function}
    ]


def _mapping_of(syn, worker) -> dict[str, Any]:
    """The mapping of the worker's source (a worker with a retry queue has a second one)."""
    mappings = _mappings_of(syn, worker)
    assert len(mappings) == (2 if worker.retries else 1)
    if worker.source == TABLE_STREAM:
        [mapping] = [m for m in mappings if "StreamArn" in str(m["EventSourceArn"])]
        return mapping
    [mapping] = [
        m for m in mappings if m["EventSourceArn"] == {"Fn::GetAtt": [_queue_id(syn, worker.source), "Arn"]}
    ]
    return mapping


def test_a_relay_failure_is_parked_on_a_queue_the_relay_consumes(dev) -> None:
    [relay] = [w for w in WORKERS if w.retries]
    assert relay.source == TABLE_STREAM and relay.retries == resources.WEBHOOK_RELAY.name
    [retry] = [m for m in _mappings_of(dev, relay) if "StreamArn" not in str(m["EventSourceArn"])]
    assert retry["EventSourceArn"] == {"Fn::GetAtt": [_queue_id(dev, resources.WEBHOOK_RELAY.name), "Arn"]}
    assert retry["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = dev.resources("AWS::SQS::Queue")[_queue_id(dev, resources.WEBHOOK_RELAY.name)]["Properties"]
    dlq = _queue_id(dev, resources.WEBHOOK_RELAY_DLQ.name)
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq, "Arn"]}


def test_every_worker_has_one_mapping_with_partial_batch_failures(dev, prod) -> None:
    retry_mappings = sum(1 for w in WORKERS if w.retries)
    fed = [w for w in WORKERS if w.source != SCHEDULE]
    assert len(dev.resources("AWS::Lambda::EventSourceMapping")) == len(fed) + retry_mappings
    for worker in fed:
        mapping = _mapping_of(dev, worker)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        if worker.source == TABLE_STREAM:
            assert mapping["EventSourceArn"] == {"Fn::GetAtt": [dev.logical_id(dev.stack.table), "StreamArn"]}
            assert mapping["BisectBatchOnFunctionError"] is True
            failures = _queue_id(dev, RELAY_FAILURES)
            assert mapping["DestinationConfig"] == {
                "OnFailure": {"Destination": {"Fn::GetAtt": [failures, "Arn"]}}
            }
            continue
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [_queue_id(dev, worker.source), "Arn"]}
        assert mapping["BatchSize"] == worker.batch_size == (1 if worker.source == "imports" else 10)
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": dev.stack.options.max_concurrency}
        assert _mapping_of(prod, worker)["ScalingConfig"] == {"MaximumConcurrency": 20}


def test_the_offer_sweep_runs_every_minute_and_reads_open_offers_by_expiry(dev) -> None:
    [sweep] = [w for w in WORKERS if w.source == SCHEDULE]
    assert sweep.handler == "workers.offer_sweep.handler"
    [rule] = dev.resources("AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == f"rate({resources.OFFER_SWEEP_MINUTES} minute)"
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_function_id(dev, sweep.construct_id), "Arn"]}
    permissions = dev.resources("AWS::Lambda::Permission").values()
    assert any(p["Properties"]["Principal"] == "events.amazonaws.com" for p in permissions)
    table = dev.resources("AWS::DynamoDB::Table")[dev.logical_id(dev.stack.table)]["Properties"]
    [offers] = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "GSI3"]
    assert [k["AttributeName"] for k in offers["KeySchema"]] == ["GSI3PK", "GSI3SK"]


def test_visibility_timeout_is_at_least_six_times_the_worker_timeout(dev) -> None:
    functions = dev.resources("AWS::Lambda::Function")
    queues = dev.resources("AWS::SQS::Queue")
    for worker in WORKERS:
        function = functions[_function_id(dev, worker.construct_id)]["Properties"]
        assert function["Runtime"] == "python3.12"
        assert function["Handler"] == worker.handler
        if worker.source == resources.REGISTRATIONS.name:
            assert function["Timeout"] == resources.REGISTRATION_WORKER_TIMEOUT_SECONDS
        for queue in [worker.source, worker.retries]:
            if queue and queue not in (TABLE_STREAM, SCHEDULE):
                visibility = queues[_queue_id(dev, queue)]["Properties"]["VisibilityTimeout"]
                assert visibility >= 6 * function["Timeout"]


def test_functions_get_the_settings_chalicelib_config_reads(dev) -> None:
    needed = {
        "TURNSTILE_TABLE", "TURNSTILE_REGISTRATIONS_QUEUE_URL", "TURNSTILE_REGISTRATIONS_DLQ_URL",
        "TURNSTILE_WEBHOOKS_QUEUE_URL", "TURNSTILE_WEBHOOKS_DLQ_URL", "TURNSTILE_WEBHOOK_RELAY_QUEUE_URL",
        "TURNSTILE_IMPORTS_QUEUE_URL",
        "TURNSTILE_IMPORTS_DLQ_URL", "TURNSTILE_IMPORTS_BUCKET", "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
    }  # fmt: skip
    functions = dev.resources("AWS::Lambda::Function")
    for worker in WORKERS:
        function = functions[_function_id(dev, worker.construct_id)]["Properties"]
        variables = function["Environment"]["Variables"]
        assert needed <= set(variables)
        assert variables["POWERTOOLS_SERVICE_NAME"] == worker.service
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "Turnstile"
        assert "POWERTOOLS_TRACE_DISABLED" not in variables
    [api] = dev.resources("AWS::Serverless::Function").values()
    variables = api["Properties"]["Environment"]["Variables"]
    assert needed | {"TURNSTILE_CURSOR_SECRET_ARN"} <= set(variables)
    assert "TURNSTILE_CURSOR_SECRET" not in variables  # the key itself is never in the configuration
    secret = dev.logical_id(dev.stack.cursor_secret)
    assert variables["TURNSTILE_CURSOR_SECRET_ARN"] == {"Ref": secret}
    assert api["Properties"]["Runtime"] == "python3.12"
    assert api["Properties"]["Role"] == {"Fn::GetAtt": [dev.logical_id(dev.stack.api_role), "Arn"]}


def test_imports_bucket_is_private_encrypted_and_expires_payloads(dev) -> None:
    [bucket] = dev.resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }  # fmt: skip
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["ExpirationInDays"] == 7
    [policy] = dev.resources("AWS::S3::BucketPolicy").values()
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarms_on_every_dead_letter_queue_and_worker_errors(dev) -> None:
    alarms = list(dev.resources("AWS::CloudWatch::Alarm").values())
    watched_queues = {
        d["Value"]["Fn::GetAtt"][0]
        for a in alarms
        for d in a["Properties"]["Dimensions"]
        if d["Name"] == "QueueName" and a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert watched_queues == {_queue_id(dev, name) for name in [*DEAD_LETTERS, RELAY_FAILURES]}
    watched_functions = {
        str(d["Value"])
        for a in alarms
        for d in a["Properties"]["Dimensions"]
        if d["Name"] == "FunctionName" and a["Properties"]["MetricName"] == "Errors"
    }
    for worker in WORKERS:
        assert str({"Ref": _function_id(dev, worker.construct_id)}) in watched_functions
    assert str({"Ref": "APIHandler"}) in watched_functions
    topic = dev.logical_id(dev.stack.alarm_topic)
    for alarm in alarms:
        props = alarm["Properties"]
        assert props["Threshold"] == 0 and props["ComparisonOperator"] == "GreaterThanThreshold"
        assert props["AlarmActions"] == [{"Ref": topic}]
        assert props["AlarmName"].startswith("turnstile-dev-")


def test_api_url_is_an_output(dev) -> None:
    outputs = dev.json["Outputs"]
    assert "execute-api" in str(outputs["ApiUrl"]["Value"])
    assert {"TableName", "ImportsBucketName", "RegistrationsFifoUrl"} <= set(outputs)


def test_synthesis_leaves_the_process_environment_as_it_was(dev) -> None:
    assert not any("${Token[" in value for value in os.environ.values())


def test_a_user_pool_with_organizer_and_admin_groups_and_an_app_client(dev, prod) -> None:
    [pool] = dev.resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["UsernameAttributes"] == ["email"]
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    groups = {g["Properties"]["GroupName"] for g in dev.resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"organizers", "admins"}
    [client] = dev.resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is False
    assert client["Properties"]["PreventUserExistenceErrors"] == "ENABLED"
    [prod_pool] = prod.resources("AWS::Cognito::UserPool").values()
    assert prod_pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert prod_pool["DeletionPolicy"] == "Retain"


def test_the_api_verifies_tokens_of_that_pool_and_client(dev) -> None:
    [api] = dev.resources("AWS::Serverless::Function").values()
    variables = api["Properties"]["Environment"]["Variables"]
    pool_id = dev.logical_id(dev.stack.users)
    issuer = json.dumps(variables["TURNSTILE_JWT_ISSUER"])
    assert pool_id in issuer and "cognito-idp" in issuer
    assert pool_id in json.dumps(variables["TURNSTILE_JWKS"]) and ".well-known/jwks.json" in json.dumps(
        variables["TURNSTILE_JWKS"]
    )
    assert variables["TURNSTILE_JWT_AUDIENCE"] == {"Ref": dev.logical_id(dev.stack.api_client)}


def test_the_api_stage_is_throttled_and_gateway_errors_are_problem_json(dev, prod) -> None:
    for synthesized, rate, burst in ((dev, 50, 100), (prod, 500, 1000)):
        [rest_api] = synthesized.resources("AWS::Serverless::Api").values()
        [setting] = rest_api["Properties"]["MethodSettings"]
        assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
        assert (setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]) == (rate, burst)
        responses = rest_api["Properties"]["GatewayResponses"]
        assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN"} <= set(responses)
        for response in responses.values():
            assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'"
            json.loads(response["ResponseTemplates"]["application/json"].replace("$context.error.", ""))
        assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"


def test_the_user_pool_ids_are_outputs(dev) -> None:
    assert {"UserPoolId", "UserPoolClientId"} <= set(dev.json["Outputs"])


def test_every_function_gives_up_on_aws_before_its_own_timeout(dev) -> None:
    """attempts x (connect + read) of one AWS call fits the function's timeout, so the API
    answers 503 itself instead of timing out, and a worker reports its failure."""
    functions = [
        *dev.resources("AWS::Lambda::Function").values(),
        *dev.resources("AWS::Serverless::Function").values(),
    ]
    checked = 0
    for function in functions:
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "TURNSTILE_AWS_MAX_ATTEMPTS" not in variables:
            continue  # CDK's own helpers (log retention, bucket notifications)
        attempts = int(variables["TURNSTILE_AWS_MAX_ATTEMPTS"])
        connect = float(variables["TURNSTILE_AWS_CONNECT_TIMEOUT"])
        read = float(variables["TURNSTILE_AWS_READ_TIMEOUT"])
        assert attempts * (connect + read) < function["Properties"]["Timeout"], function["Properties"]
        checked += 1
    assert checked == len(WORKERS) + 1  # every worker and the API


def test_a_crashed_registration_batch_holds_its_event_for_30_seconds_at_most(dev) -> None:
    """The registration worker's timeout is 5 s and its queue's visibility timeout six times that:
    a batch that dies in flight is redelivered, and its event's group moves on, within 30 s."""
    functions = dev.resources("AWS::Lambda::Function")
    worker = functions[_function_id(dev, "RegistrationWorker")]["Properties"]
    queue = dev.resources("AWS::SQS::Queue")[_queue_id(dev, resources.REGISTRATIONS.name)]["Properties"]
    assert worker["Timeout"] == 5
    assert queue["VisibilityTimeout"] == 6 * worker["Timeout"] == 30


def test_a_presigned_upload_tells_the_imports_queue(dev) -> None:
    [notifications] = dev.resources("Custom::S3BucketNotifications").values()
    [queue] = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert queue["QueueArn"] == {"Fn::GetAtt": [_queue_id(dev, resources.IMPORTS.name), "Arn"]}
    assert queue["Events"] == ["s3:ObjectCreated:*"]
    assert queue["Filter"] == {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}


def test_a_firewall_limits_each_caller_by_token_and_each_anonymous_ip_per_stage(dev, prod) -> None:
    for synthesized, per_caller, per_ip in ((dev, 300, 300), (prod, 600, 1200)):
        [acl] = synthesized.resources("AWS::WAFv2::WebACL").values()
        props = acl["Properties"]
        assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
        rules = {rule["Name"]: rule for rule in props["Rules"]}
        assert set(rules) == {"PerCaller", "PerAnonymousIp"}
        caller = rules["PerCaller"]["Statement"]["RateBasedStatement"]
        assert (caller["Limit"], caller["EvaluationWindowSec"]) == (per_caller, 60)
        assert caller["AggregateKeyType"] == "CUSTOM_KEYS"
        assert caller["CustomKeys"][0]["Header"]["Name"] == "authorization"
        has_token = caller["ScopeDownStatement"]["SizeConstraintStatement"]
        assert has_token["FieldToMatch"] == {"SingleHeader": {"Name": "authorization"}}
        anonymous = rules["PerAnonymousIp"]["Statement"]["RateBasedStatement"]
        assert (anonymous["Limit"], anonymous["AggregateKeyType"]) == (per_ip, "IP")
        negated = anonymous["ScopeDownStatement"]["NotStatement"]["Statement"]
        assert negated == caller["ScopeDownStatement"], "anonymous: exactly the requests without a token"
        for rule in rules.values():
            answer = rule["Action"]["Block"]["CustomResponse"]
            assert answer["ResponseCode"] == 429
            body = props["CustomResponseBodies"][answer["CustomResponseBodyKey"]]
            assert json.loads(body["Content"])["status"] == 429
        [association] = synthesized.resources("AWS::WAFv2::WebACLAssociation").values()
        arn = json.dumps(association["Properties"]["ResourceArn"])
        assert "/restapis/" in arn and '"RestAPI"' in arn and "RestAPI.Stage" in arn


def test_the_api_function_has_reserved_concurrency_per_stage(dev, prod) -> None:
    for synthesized, reserved in ((dev, 20), (prod, 300)):
        [handler] = [
            r for r in synthesized.resources("AWS::Serverless::Function").values()
            if r["Properties"].get("Handler") == "app.app"
        ]  # fmt: skip
        assert handler["Properties"]["ReservedConcurrentExecutions"] == reserved
