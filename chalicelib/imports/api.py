"""Routes for bulk imports: submit a file of registrations, follow its progress, page its errors."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.imports.wire import dry_run, import_json, retry_after, row_error_json
from chalicelib.registrations.wire import idempotency_key
from chalicelib.shared.http import api_route, json_response, listing, query, raw_body

blueprint = Blueprint(__name__)


@api_route(blueprint, "/events/{eventId}/imports", ["POST"])
def create_import(eventId: str) -> Response:
    request = blueprint.current_request
    key = request.headers.get("idempotency-key")
    record = services().imports.submit(
        caller_of(request),
        eventId,
        request.headers.get("content-type"),
        raw_body(request),
        dry_run(query(request)),
        None if key is None else idempotency_key(key),
    )
    headers = {"Location": f"/imports/{record.import_id}", **retry_after(record)}
    return json_response(import_json(record), 202, headers)


@api_route(blueprint, "/imports/{importId}", ["GET"])
def get_import(importId: str) -> Response:
    record = services().imports.get(caller_of(blueprint.current_request), importId)
    return json_response(import_json(record), headers=retry_after(record))


@api_route(blueprint, "/imports/{importId}/errors", ["GET"])
def import_errors(importId: str) -> Response:
    request = blueprint.current_request
    caller = caller_of(request)
    return listing(
        request,
        services().settings.cursor_secret,
        f"import-errors/{importId}",
        lambda limit, after: services().imports.errors(caller, importId, limit, after),
        row_error_json,
    )
