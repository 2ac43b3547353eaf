"""Routes for bulk imports: submit a file of registrations, follow its progress, page its errors."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.imports.rows import MAX_UPLOAD_BYTES
from chalicelib.imports.service import UPLOAD_FORM_SECONDS
from chalicelib.imports.wire import (
    IMPORT_EXAMPLE,
    ImportQuery,
    ImportRows,
    ImportShown,
    RowErrorPage,
    accepted_headers,
    import_json,
    import_options,
    retry_after,
    row_error_json,
    upload_json,
)
from chalicelib.registrations.wire import idempotency_key
from chalicelib.shared.http import api_route, json_response, listing, query, raw_body
from chalicelib.shared.openapi import IDEMPOTENCY_KEY, LOCATION, RETRY_AFTER, Operation, Reply, link
from chalicelib.shared.wire import PageQuery

blueprint = Blueprint(__name__)


@api_route(
    blueprint,
    "/events/{eventId}/imports",
    ["POST"],
    Operation(
        "Import attendees from CSV or JSON (the event's owner, admins)",
        (
            Reply(
                202,
                "Accepted; poll `Location` for progress and `/imports/{importId}/errors` for rows.",
                ImportShown,
                (LOCATION, RETRY_AFTER),
                links={
                    "GetImport": link("get_import", importId="importId"),
                },
            ),
        ),
        body=ImportRows,
        body_media=("text/csv", "application/json"),
        example=IMPORT_EXAMPLE,
        query=ImportQuery,
        headers=(IDEMPOTENCY_KEY,),
        description="Rows go through the event's queue like every registration, so they respect "
        "capacity. Up to 100,000 rows and 10 MiB.",
    ),
)
def create_import(eventId: str) -> Response:
    request = blueprint.current_request
    key = request.headers.get("idempotency-key")
    key = None if key is None else idempotency_key(key)
    dry_run, upload = import_options(query(request))
    content_type = request.headers.get("content-type")
    if upload:
        record, form = services().imports.request_upload(
            caller_of(request), eventId, content_type, dry_run, key
        )
        body = import_json(record)
        if form is not None:
            body["upload"] = upload_json(form, UPLOAD_FORM_SECONDS, MAX_UPLOAD_BYTES)
        return json_response(body, 202, accepted_headers(record))
    record = services().imports.submit(
        caller_of(request), eventId, content_type, raw_body(request), dry_run, key
    )
    return json_response(import_json(record), 202, accepted_headers(record))


@api_route(
    blueprint,
    "/imports/{importId}",
    ["GET"],
    Operation(
        "An import's progress counters (the event's owner, admins)",
        (Reply(200, "The import.", ImportShown, (RETRY_AFTER,)),),
    ),
)
def get_import(importId: str) -> Response:
    record = services().imports.get(caller_of(blueprint.current_request), importId)
    return json_response(import_json(record), headers=retry_after(record))


@api_route(
    blueprint,
    "/imports/{importId}/errors",
    ["GET"],
    Operation(
        "An import's row errors, by row (the event's owner, admins)",
        (Reply(200, "A page of row errors.", RowErrorPage),),
        query=PageQuery,
    ),
)
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
