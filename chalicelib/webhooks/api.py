"""Routes for webhook subscriptions and their delivery log."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.shared.http import api_route, json_response, listing, no_content, read_json
from chalicelib.shared.wire import parse, reject_nulls
from chalicelib.webhooks.wire import WebhookCreate, WebhookUpdate, delivery_json, subscription_json

blueprint = Blueprint(__name__)


@api_route(blueprint, "/webhooks", ["POST"])
def create_webhook() -> Response:
    request = blueprint.current_request
    body = parse(WebhookCreate, read_json(request))
    subscription, secret = services().webhooks.create(
        caller_of(request), body.url, body.events, body.description
    )
    answer = {**subscription_json(subscription), "secret": secret}
    return json_response(answer, 201, {"Location": f"/webhooks/{subscription.webhook_id}"})


@api_route(blueprint, "/webhooks", ["GET"])
def list_webhooks() -> Response:
    request = blueprint.current_request
    caller = caller_of(request)
    return listing(
        request,
        services().settings.cursor_secret,
        "webhooks",
        lambda limit, after: services().webhooks.list(caller, limit, after),
        subscription_json,
    )


@api_route(blueprint, "/webhooks/{webhookId}", ["GET"])
def get_webhook(webhookId: str) -> Response:
    return json_response(
        subscription_json(services().webhooks.get(caller_of(blueprint.current_request), webhookId))
    )


@api_route(blueprint, "/webhooks/{webhookId}", ["PUT"])
def update_webhook(webhookId: str) -> Response:
    request = blueprint.current_request
    payload = read_json(request)
    body = parse(WebhookUpdate, payload)
    reject_nulls(payload)
    updated = services().webhooks.update(
        caller_of(request), webhookId, body.url, body.events, body.enabled, body.description
    )
    return json_response(subscription_json(updated))


@api_route(blueprint, "/webhooks/{webhookId}", ["DELETE"])
def delete_webhook(webhookId: str) -> Response:
    services().webhooks.delete(caller_of(blueprint.current_request), webhookId)
    return no_content()


@api_route(blueprint, "/webhooks/{webhookId}/rotate-secret", ["POST"])
def rotate_secret(webhookId: str) -> Response:
    subscription, secret = services().webhooks.rotate_secret(caller_of(blueprint.current_request), webhookId)
    return json_response({**subscription_json(subscription), "secret": secret})


@api_route(blueprint, "/webhooks/{webhookId}/deliveries", ["GET"])
def list_deliveries(webhookId: str) -> Response:
    request = blueprint.current_request
    caller = caller_of(request)
    return listing(
        request,
        services().settings.cursor_secret,
        f"webhook-deliveries/{webhookId}",
        lambda limit, after: services().webhooks.deliveries_of(caller, webhookId, limit, after),
        delivery_json,
    )


@api_route(blueprint, "/webhooks/{webhookId}/deliveries/{deliveryId}/retry", ["POST"])
def retry_delivery(webhookId: str, deliveryId: str) -> Response:
    caller = caller_of(blueprint.current_request)
    return json_response(delivery_json(services().webhooks.retry(caller, webhookId, deliveryId)), 202)
