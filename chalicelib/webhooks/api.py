"""Routes for webhook subscriptions and their delivery log."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.shared.http import api_route, json_response, listing, no_content, read_json
from chalicelib.shared.wire import parse, reject_nulls
from chalicelib.webhooks.wire import WebhookCreate, WebhookUpdate, delivery_json, subscription_json

blueprint = Blueprint(__name__)


@api_route(blueprint, "/webhooks", ["POST"])
def create_webhook() -> Response:
    request = parse(WebhookCreate, read_json(blueprint.current_request))
    subscription, secret = services().webhooks.create(request.url, request.events, request.description)
    body = {**subscription_json(subscription), "secret": secret}
    return json_response(body, 201, {"Location": f"/webhooks/{subscription.webhook_id}"})


@api_route(blueprint, "/webhooks", ["GET"])
def list_webhooks() -> Response:
    return listing(
        blueprint.current_request,
        services().settings.cursor_secret,
        "webhooks",
        services().webhooks.list,
        subscription_json,
    )


@api_route(blueprint, "/webhooks/{webhookId}", ["GET"])
def get_webhook(webhookId: str) -> Response:
    return json_response(subscription_json(services().webhooks.get(webhookId)))


@api_route(blueprint, "/webhooks/{webhookId}", ["PUT"])
def update_webhook(webhookId: str) -> Response:
    payload = read_json(blueprint.current_request)
    request = parse(WebhookUpdate, payload)
    reject_nulls(payload)
    updated = services().webhooks.update(
        webhookId, request.url, request.events, request.enabled, request.description
    )
    return json_response(subscription_json(updated))


@api_route(blueprint, "/webhooks/{webhookId}", ["DELETE"])
def delete_webhook(webhookId: str) -> Response:
    services().webhooks.delete(webhookId)
    return no_content()


@api_route(blueprint, "/webhooks/{webhookId}/rotate-secret", ["POST"])
def rotate_secret(webhookId: str) -> Response:
    subscription, secret = services().webhooks.rotate_secret(webhookId)
    return json_response({**subscription_json(subscription), "secret": secret})


@api_route(blueprint, "/webhooks/{webhookId}/deliveries", ["GET"])
def list_deliveries(webhookId: str) -> Response:
    return listing(
        blueprint.current_request,
        services().settings.cursor_secret,
        f"webhook-deliveries/{webhookId}",
        lambda limit, after: services().webhooks.deliveries_of(webhookId, limit, after),
        delivery_json,
    )


@api_route(blueprint, "/webhooks/{webhookId}/deliveries/{deliveryId}/retry", ["POST"])
def retry_delivery(webhookId: str, deliveryId: str) -> Response:
    return json_response(delivery_json(services().webhooks.retry(webhookId, deliveryId)), 202)
