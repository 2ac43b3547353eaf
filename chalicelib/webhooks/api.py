"""Routes for webhook subscriptions and their delivery log."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.shared.http import api_route, json_response, listing, no_content, read_json
from chalicelib.shared.openapi import LOCATION, RETRY_AFTER, Operation, Reply, link
from chalicelib.shared.problems import Conflict
from chalicelib.shared.wire import PageQuery, parse, reject_nulls
from chalicelib.webhooks.wire import (
    WEBHOOK_EXAMPLE,
    DeliveryPage,
    DeliveryShown,
    WebhookCreate,
    WebhookPage,
    WebhookShown,
    WebhookUpdate,
    WebhookWithSecret,
    delivery_json,
    subscription_json,
)

THE_WEBHOOK = Reply(200, "The subscription (never its secret).", WebhookShown)
RETRY_SECONDS = "5"

blueprint = Blueprint(__name__)


@api_route(
    blueprint,
    "/webhooks",
    ["POST"],
    Operation(
        "Subscribe to notifications (organizers: their events'; admins: every event's)",
        (
            Reply(
                201,
                "The subscription and its signing secret (shown this once).",
                WebhookWithSecret,
                (LOCATION,),
                links={
                    "GetWebhook": link("get_webhook", webhookId="webhookId"),
                    "ListDeliveries": link("list_deliveries", webhookId="webhookId"),
                    "UpdateWebhook": link("update_webhook", webhookId="webhookId"),
                    "RotateSecret": link("rotate_secret", webhookId="webhookId"),
                    "DeleteWebhook": link("delete_webhook", webhookId="webhookId"),
                },
            ),
        ),
        body=WebhookCreate,
        example={"application/json": WEBHOOK_EXAMPLE},
    ),
)
def create_webhook() -> Response:
    request = blueprint.current_request
    body = parse(WebhookCreate, read_json(request))
    subscription, secret = services().webhooks.create(
        caller_of(request), body.url, body.events, body.description
    )
    answer = {**subscription_json(subscription), "secret": secret}
    return json_response(answer, 201, {"Location": f"/webhooks/{subscription.webhook_id}"})


@api_route(
    blueprint,
    "/webhooks",
    ["GET"],
    Operation(
        "List the caller's subscriptions (admins: all)",
        (Reply(200, "A page of subscriptions.", WebhookPage),),
        query=PageQuery,
    ),
)
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


@api_route(
    blueprint,
    "/webhooks/{webhookId}",
    ["GET"],
    Operation("Get a subscription (its owner, admins)", (THE_WEBHOOK,)),
)
def get_webhook(webhookId: str) -> Response:
    return json_response(
        subscription_json(services().webhooks.get(caller_of(blueprint.current_request), webhookId))
    )


@api_route(
    blueprint,
    "/webhooks/{webhookId}",
    ["PUT"],
    Operation(
        "Change a subscription; `enabled: true` turns a disabled one back on (its owner, admins)",
        (THE_WEBHOOK,),
        body=WebhookUpdate,
        example={"application/json": {"enabled": True}},
    ),
)
def update_webhook(webhookId: str) -> Response:
    request = blueprint.current_request
    payload = read_json(request)
    body = parse(WebhookUpdate, payload)
    reject_nulls(payload)
    updated = services().webhooks.update(
        caller_of(request), webhookId, body.url, body.events, body.enabled, body.description
    )
    return json_response(subscription_json(updated))


@api_route(
    blueprint,
    "/webhooks/{webhookId}",
    ["DELETE"],
    Operation("Delete a subscription (its owner, admins)", (Reply(204, "Deleted."),)),
)
def delete_webhook(webhookId: str) -> Response:
    services().webhooks.delete(caller_of(blueprint.current_request), webhookId)
    return no_content()


@api_route(
    blueprint,
    "/webhooks/{webhookId}/rotate-secret",
    ["POST"],
    Operation(
        "Rotate the signing secret; both sign for 24 hours (its owner, admins)",
        (Reply(200, "The subscription and its new secret (shown this once).", WebhookWithSecret),),
    ),
)
def rotate_secret(webhookId: str) -> Response:
    subscription, secret = services().webhooks.rotate_secret(caller_of(blueprint.current_request), webhookId)
    return json_response({**subscription_json(subscription), "secret": secret})


@api_route(
    blueprint,
    "/webhooks/{webhookId}/deliveries",
    ["GET"],
    Operation(
        "The delivery log, newest first, with every attempt (the subscription's owner, admins)",
        (Reply(200, "A page of deliveries.", DeliveryPage),),
        query=PageQuery,
    ),
)
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


@api_route(
    blueprint,
    "/webhooks/{webhookId}/deliveries/{deliveryId}",
    ["GET"],
    Operation(
        "One delivery and its attempts (the subscription's owner, admins)",
        (Reply(200, "The delivery.", DeliveryShown),),
    ),
)
def get_delivery(webhookId: str, deliveryId: str) -> Response:
    caller = caller_of(blueprint.current_request)
    return json_response(delivery_json(services().webhooks.delivery(caller, webhookId, deliveryId)))


@api_route(
    blueprint,
    "/webhooks/{webhookId}/deliveries/{deliveryId}/retry",
    ["POST"],
    Operation(
        "Attempt a delivery once more (the subscription's owner, admins)",
        (
            Reply(
                202,
                "Queued for one more attempt; `Location` shows its attempts.",
                DeliveryShown,
                (LOCATION, RETRY_AFTER),
            ),
        ),
        (Conflict,),
    ),
)
def retry_delivery(webhookId: str, deliveryId: str) -> Response:
    caller = caller_of(blueprint.current_request)
    delivery = services().webhooks.retry(caller, webhookId, deliveryId)
    headers = {"Location": f"/webhooks/{webhookId}/deliveries/{deliveryId}", "Retry-After": RETRY_SECONDS}
    return json_response(delivery_json(delivery), 202, headers)
