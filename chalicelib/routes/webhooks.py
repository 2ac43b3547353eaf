"""Webhook subscriptions and their delivery log. Routes only: parse, call the service, shape."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.http import api_route, json_response, page, page_parameters, read_json
from chalicelib.schemas import parse, reject_nulls
from chalicelib.webhooks.container import webhooks
from chalicelib.webhooks.schemas import WebhookCreate, WebhookUpdate
from chalicelib.webhooks.service import delivery_view, subscription_view

blueprint = Blueprint(__name__)


def _secret() -> str:
    return webhooks().settings.cursor_secret


def _page_of(scope: str) -> tuple[int, dict[str, Any] | None]:
    return page_parameters(blueprint.current_request.query_params, _secret(), scope)


@api_route(blueprint, "/webhooks", ["POST"])
def create_webhook() -> Response:
    request = parse(WebhookCreate, read_json(blueprint.current_request))
    subscription, secret = webhooks().service.create(request)
    body = {**subscription_view(subscription), "secret": secret}
    return json_response(body, 201, {"Location": f"/webhooks/{subscription.webhook_id}"})


@api_route(blueprint, "/webhooks", ["GET"])
def list_webhooks() -> Response:
    limit, after = _page_of("webhooks")
    found, next_position = webhooks().service.list(limit, after)
    return json_response(page([subscription_view(s) for s in found], next_position, _secret(), "webhooks"))


@api_route(blueprint, "/webhooks/{webhookId}", ["GET"])
def get_webhook(webhookId: str) -> Response:
    return json_response(subscription_view(webhooks().service.get(webhookId)))


@api_route(blueprint, "/webhooks/{webhookId}", ["PUT"])
def update_webhook(webhookId: str) -> Response:
    payload = read_json(blueprint.current_request)
    request = parse(WebhookUpdate, payload)
    reject_nulls(payload)
    return json_response(subscription_view(webhooks().service.update(webhookId, request, payload)))


@api_route(blueprint, "/webhooks/{webhookId}", ["DELETE"])
def delete_webhook(webhookId: str) -> Response:
    webhooks().service.delete(webhookId)
    return Response(body="", status_code=204)


@api_route(blueprint, "/webhooks/{webhookId}/rotate-secret", ["POST"])
def rotate_secret(webhookId: str) -> Response:
    subscription, secret = webhooks().service.rotate_secret(webhookId)
    return json_response({**subscription_view(subscription), "secret": secret})


@api_route(blueprint, "/webhooks/{webhookId}/deliveries", ["GET"])
def list_deliveries(webhookId: str) -> Response:
    scope = f"webhook-deliveries/{webhookId}"
    limit, after = _page_of(scope)
    found, next_position = webhooks().service.deliveries_of(webhookId, limit, after)
    return json_response(page([delivery_view(d) for d in found], next_position, _secret(), scope))


@api_route(blueprint, "/webhooks/{webhookId}/deliveries/{deliveryId}/retry", ["POST"])
def retry_delivery(webhookId: str, deliveryId: str) -> Response:
    delivery = webhooks().service.retry(webhookId, deliveryId)
    return json_response(delivery_view(delivery), 202)
