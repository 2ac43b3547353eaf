"""Least privilege: no wildcard actions, and each function only its own table/queue/bucket rights."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from chalicelib.shared import resources
from infrastructure.stack import RELAY_FAILURES


def _statements(syn) -> list[tuple[str, dict[str, Any]]]:
    """(resource logical id, statement) of every policy document in the template."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in syn.json["Resources"].items():
        props = resource.get("Properties", {})
        inline = props.get("Policies", [])  # a role's inline policies (a user pool's are not IAM)
        inline = inline if isinstance(inline, list) else []
        documents = [props.get("PolicyDocument")] + [p["PolicyDocument"] for p in inline]
        for document in filter(None, documents):
            found += [(logical_id, statement) for statement in document["Statement"]]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else actions


def test_no_statement_allows_a_wildcard_action(dev, prod) -> None:
    for syn in (dev, prod):
        allows = [(where, s) for where, s in _statements(syn) if s["Effect"] == "Allow"]
        assert allows
        for where, statement in allows:
            for action in _actions(statement):
                assert action != "*" and not action.endswith(":*"), (where, action)
            assert "NotAction" not in statement, where


def test_only_tls_denials_use_service_wildcards(dev) -> None:
    """`sqs:*` / `s3:*` appear only in Deny statements that refuse plain HTTP."""
    for where, statement in _statements(dev):
        if any(a == "*" or a.endswith(":*") for a in _actions(statement)):
            assert statement["Effect"] == "Deny", where
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, where


def _grants(syn, role_construct: Any) -> dict[str, set[str]]:
    """action -> the logical ids of the resources it is allowed on, for one role."""
    role = syn.logical_id(role_construct)
    grants: dict[str, set[str]] = defaultdict(set)
    for resource in syn.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in resource["Properties"]["Roles"]:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            targets = statement["Resource"]
            targets = targets if isinstance(targets, list) else [targets]
            for action in _actions(statement):
                grants[action] |= {_logical_id_in(t) for t in targets}
    return grants


def _logical_id_in(target: Any) -> str:
    text = str(target)
    if "Fn::GetAtt" in text or "Ref" in text:
        return re.search(r"'(?:Ref|Fn::GetAtt)': \[?'([A-Za-z0-9]+)'", text).group(1)
    return text


def test_each_function_has_only_its_own_rights(dev) -> None:
    q = {name: dev.logical_id(queue) for name, queue in dev.stack.queues.items()}
    table, bucket = dev.logical_id(dev.stack.table), dev.logical_id(dev.stack.bucket)

    def role_of(construct_id: str) -> Any:
        return dev.stack.functions[construct_id].role

    api = _grants(dev, dev.stack.api_role)
    assert api["sqs:SendMessage"] == {q[n] for n in (resources.REGISTRATIONS.name, resources.IMPORTS.name,
                                                 resources.WEBHOOKS.name)}  # fmt: skip
    assert api["s3:PutObject"] == {bucket}
    assert table in api["dynamodb:PutItem"] and "sqs:ReceiveMessage" not in api and "s3:GetObject" not in api

    registration = _grants(dev, role_of("RegistrationWorker"))
    assert registration["sqs:ReceiveMessage"] == {q[resources.REGISTRATIONS.name]}
    # malformed messages to its DLQ; work that did not fit an invocation continues in its own queue
    assert registration["sqs:SendMessage"] == {
        q[resources.REGISTRATIONS_DLQ.name],
        q[resources.REGISTRATIONS.name],
    }
    assert table in registration["dynamodb:UpdateItem"]
    assert not any(action.startswith("s3:") for action in registration)

    webhooks = _grants(dev, role_of("WebhooksWorker"))
    assert webhooks["sqs:ReceiveMessage"] == {q[resources.WEBHOOKS.name]}
    assert webhooks["sqs:SendMessage"] == {q[resources.WEBHOOKS.name], q[resources.WEBHOOKS_DLQ.name]}
    assert {a for a in webhooks if a.startswith("dynamodb:")} == {"dynamodb:GetItem", "dynamodb:UpdateItem"}

    relay = _grants(dev, role_of("WebhookRelay"))
    # deliveries; changes it failed on, parked whole (and, when even that fails, stream pointers)
    assert relay["sqs:SendMessage"] == {
        q[resources.WEBHOOKS.name],
        q[resources.WEBHOOK_RELAY.name],
        q[RELAY_FAILURES],
    }
    assert relay["sqs:ReceiveMessage"] == {q[resources.WEBHOOK_RELAY.name]}  # replays what it parked
    assert table in relay["dynamodb:GetRecords"] and table in relay["dynamodb:PutItem"]

    imports = _grants(dev, role_of("ImportsWorker"))
    assert imports["sqs:ReceiveMessage"] == {q[resources.IMPORTS.name]}
    assert imports["sqs:SendMessage"] == {q[n] for n in (resources.REGISTRATIONS.name, resources.IMPORTS.name,
                                                     resources.IMPORTS_DLQ.name)}  # fmt: skip
    assert (
        imports["s3:GetObject"] == imports["s3:PutObject"] == {bucket}
    )  # payload in, plan of valid rows out


def test_the_offer_sweep_may_only_query_the_open_offers_index_and_queue_expiries(dev) -> None:
    q = {name: dev.logical_id(queue) for name, queue in dev.stack.queues.items()}
    table = dev.logical_id(dev.stack.table)
    sweep = _grants(dev, dev.stack.functions["OfferSweep"].role)
    assert sweep["sqs:SendMessage"] == {q[resources.REGISTRATIONS.name]}
    assert {a for a in sweep if a.startswith("dynamodb:")} == {"dynamodb:Query"}
    [query] = [statement for _, statement in _statements(dev) if _actions(statement) == ["dynamodb:Query"]]
    assert query["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/GSI3"]]}
    assert "sqs:ReceiveMessage" not in sweep


def test_only_who_seals_or_opens_webhook_secrets_may_use_their_key(dev) -> None:
    """The API seals (GenerateDataKey) and opens; the dispatcher only opens; the relay neither."""
    key = dev.logical_id(dev.stack.secrets_key)
    kms = {
        name: {a for a, targets in _grants(dev, role).items() if a.startswith("kms:") and key in targets}
        for name, role in [
            ("api", dev.stack.api_role),
            *[(w, dev.stack.functions[w].role) for w in dev.stack.functions],
        ]
    }
    assert kms == {
        "api": {"kms:GenerateDataKey", "kms:Decrypt"},
        "RegistrationWorker": set(),
        "WebhooksWorker": {"kms:Decrypt"},
        "WebhookRelay": set(),  # it lists subscriptions, never opens their secrets
        "ImportsWorker": set(),
        "OfferSweep": set(),
    }
    [secrets_key] = dev.resources("AWS::KMS::Key").values()
    assert secrets_key["Properties"]["EnableKeyRotation"] is True


def test_the_webhook_dispatcher_reaches_only_subscriptions_and_deliveries_by_key(dev) -> None:
    """The one function that calls tenant-chosen hosts cannot read registrations, users or events,
    query an index, or write anything but the subscription and delivery it works on."""
    role = dev.logical_id(dev.stack.functions["WebhooksWorker"].role)
    table = dev.logical_id(dev.stack.table)
    found = [
        statement
        for resource in dev.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith("dynamodb:") for a in _actions(statement))
    ]
    assert len(found) == 1
    [statement] = found
    assert sorted(_actions(statement)) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert statement["Resource"] == {"Fn::GetAtt": [table, "Arn"]}
    assert statement["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["WEBHOOK#*", "DELIVERY#*"]}
    }


def test_the_dispatcher_may_ask_the_user_pool_for_groups_and_knows_which_pool(dev) -> None:
    role = dev.stack.functions["WebhooksWorker"].role
    grants = _grants(dev, role)
    pool = dev.logical_id(dev.stack.users)
    assert grants["cognito-idp:AdminListGroupsForUser"] == {pool}
    assert not any(a.startswith("cognito-idp:") for a, _ in _grants(dev, dev.stack.api_role).items())
    [function] = [
        f for f in dev.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "workers.webhooks.handler"
    ]  # fmt: skip
    assert function["Properties"]["Environment"]["Variables"]["TURNSTILE_USER_POOL_ID"] == {"Ref": pool}
