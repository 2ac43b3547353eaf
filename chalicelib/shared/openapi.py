"""The API's contract, OpenAPI 3.1, from the same table the app registers its routes with.

Every route is registered through `http.api_route(blueprint, path, methods, Operation(...))`,
which records it in `ROUTES`; a route cannot exist without its entry. `document()` turns the
entries and the pydantic models they name into the document `GET /openapi.json` serves, and a
test checks that the app's route table and the document list the same operations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib.shared.problems import (
    BadRequest,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceUnavailable,
    TurnstileError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.shared.wire import ID_PATTERN, PATH_ID_PATTERNS

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
TITLE = "Turnstile"
VERSION = "1.0.0"
BEARER = "bearerAuth"


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})


# Response headers an operation may name.
LOCATION = Header("Location", "Where the created or accepted resource is.")
RETRY_AFTER = Header("Retry-After", "Seconds to wait before polling again.", {"type": "integer"})
ETAG = Header("ETag", "The event's version, for `If-Match`.")
PREFERENCE_APPLIED = Header("Preference-Applied", "`wait=N` when the answer waited for the outcome.")
WWW_AUTHENTICATE = Header("WWW-Authenticate", "`Bearer` (RFC 6750).")

# Request headers an operation may take.
IDEMPOTENCY_KEY = Header(
    "Idempotency-Key",
    "Makes a retry safe: the same key and request answer with the first request resource; the "
    "same key with another request is a 422 (1-255 printable characters).",
    {"type": "string", "minLength": 1, "maxLength": 255},
)
IF_MATCH = Header("If-Match", "The ETag the change is made against (412 when it has moved).")
PREFER = Header(
    "Prefer",
    "`wait=N` (N from 1 to 10, RFC 7240): wait up to N seconds for the outcome; a request "
    "decided in time is answered 200 with the completed request resource.",
    {"type": "string", "pattern": r"^\s*wait\s*=\s*\d+\s*$"},
)


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link: call `operation_id` with these parameters taken from the response body's
    fields (parameter=field)."""
    return {
        "operationId": operation_id,
        "parameters": {name: f"$response.body#/{field}" for name, field in parameters.items()},
    }


@dataclass(frozen=True)
class Reply:
    """A success answer: its status, what it means, its body model and headers."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    media: str = JSON
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What a route takes and gives, for the OpenAPI document."""

    summary: str
    replies: tuple[Reply, ...]
    errors: tuple[type[TurnstileError], ...] = ()  # besides those every operation may answer
    body: type[BaseModel] | None = None
    body_media: tuple[str, ...] = (JSON,)
    example: dict[str, Any] | None = None  # media type -> an example body
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    anonymous: bool = False  # no bearer token needed
    description: str = ""
    operation_id: str = ""  # default: the view's name


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    tag: str
    operation_id: str
    operation: Operation


ROUTES: list[Route] = []


def record(path: str, method: str, tag: str, view_name: str, operation: Operation) -> None:
    ROUTES.append(Route(path, method.upper(), tag, operation.operation_id or view_name, operation))


# --- the document ---------------------------------------------------------------------------------

_ALWAYS: tuple[type[TurnstileError], ...] = (BadRequest, Unauthorized, ServiceUnavailable)
_WITH_BODY: tuple[type[TurnstileError], ...] = (PayloadTooLarge, UnsupportedMediaType, ValidationFailed)


def document(routes: list[Route] | None = None, server: str = "/") -> dict[str, Any]:
    schemas: dict[str, Any] = {"Problem": _problem_schema()}
    paths: dict[str, dict[str, Any]] = {}
    chosen = routes if routes is not None else ROUTES
    for route in chosen:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Event registration: organizers run events with a capacity and an "
            "optional waitlist; registrations are queued per event and decided in order.",
        },
        "servers": [{"url": server}],
        "tags": [{"name": tag} for tag in _tags(chosen)],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token from the user pool (locally: `make token`).",
                }
            },
        },
    }


def _tags(routes: list[Route]) -> list[str]:
    """The features in the order their routes were recorded, the documentation's own last."""
    return sorted(dict.fromkeys(r.tag for r in routes), key=lambda tag: tag == "docs")


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    op = route.operation
    spec: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": op.summary,
        "tags": [route.tag],
        "parameters": _parameters(route, schemas),
        "responses": _responses(route, schemas),
        "security": [{}, {BEARER: []}] if op.anonymous else [{BEARER: []}],
    }
    if op.description:
        spec["description"] = op.description
    if op.body is not None or op.body_media != (JSON,):
        spec["requestBody"] = _request_body(op, schemas)
    return spec


def _parameters(route: Route, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in re.findall(r"\{(\w+)\}", route.path)
    ]
    if route.operation.query is not None:
        schema = _schema(route.operation.query, schemas, inline=True)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            query = {"name": name, "in": "query", "required": name in required, "schema": _not_null(prop)}
            parameters.append(query)
    for header in route.operation.headers:
        parameters.append(
            {"name": header.name, "in": "header", "description": header.description, "schema": header.schema}
        )
    return parameters


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value, never null: `T | None` is shown as T."""
    options = [o for o in schema.get("anyOf", []) if o != {"type": "null"}]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**rest, **options[0]}


def _path_schema(name: str) -> dict[str, Any]:
    """An id (`...Id`) is 1-64 letters, digits, `-` or `_`, a request's possibly three such
    joined by dots (shared.http.check_path_ids)."""
    if name.endswith("Id"):
        return {"type": "string", "pattern": PATH_ID_PATTERNS.get(name, ID_PATTERN)}
    return {"type": "string"}


def _request_body(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    """A JSON body from its model; a file upload (another media type) as a string."""
    content: dict[str, Any] = {}
    for media in op.body_media:
        entry: dict[str, Any] = {"schema": {"type": "string"}}
        if media == JSON and op.body is not None:
            entry["schema"] = _schema(op.body, schemas)
        example = op.example.get(media) if isinstance(op.example, dict) else None
        if example is not None:
            entry["example"] = example
        content[media] = entry
    return {"required": op.body is None or _has_required(op.body), "content": content}


def _has_required(model: type[BaseModel]) -> bool:
    return any(f.is_required() for f in model.model_fields.values())


def _responses(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    op = route.operation
    responses: dict[str, Any] = {}
    for reply in op.replies:
        answer: dict[str, Any] = {"description": reply.description}
        if reply.model is not None:
            answer["content"] = {reply.media: {"schema": _schema(reply.model, schemas)}}
        elif reply.media != JSON:
            answer["content"] = {reply.media: {"schema": {"type": "string"}}}
        if reply.headers:
            answer["headers"] = _headers(*reply.headers)
        if reply.links:
            answer["links"] = reply.links
        status = str(reply.status)
        if status in responses:  # one status, two shapes (PUT /events: the event, or a request)
            answer = _either(responses[status], answer)
        responses[status] = answer
    for error in _errors(route):
        answer = {
            "description": error.title,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if error is Unauthorized:
            answer["headers"] = _headers(WWW_AUTHENTICATE)
        if error is ServiceUnavailable:
            answer["headers"] = _headers(RETRY_AFTER)
        responses.setdefault(str(error.status), answer)
    return dict(sorted(responses.items()))


def _headers(*headers: Header) -> dict[str, Any]:
    return {h.name: {"description": h.description, "schema": h.schema} for h in headers}


def _either(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    merged = {**first, "description": f"{first['description']} Or: {second['description']}"}
    content = {}
    for media in {**first.get("content", {}), **second.get("content", {})}:
        schemas = [a["content"][media]["schema"] for a in (first, second) if media in a.get("content", {})]
        content[media] = {"schema": schemas[0] if len(schemas) == 1 else {"oneOf": schemas}}
    merged["content"] = content
    merged["headers"] = {**first.get("headers", {}), **second.get("headers", {})}
    return merged


def _errors(route: Route) -> list[type[TurnstileError]]:
    op = route.operation
    errors = list(_ALWAYS)
    if "{" in route.path:
        errors.append(NotFound)
    if not op.anonymous:
        errors.append(Forbidden)
    if op.body is not None or op.body_media != (JSON,):
        errors.extend(_WITH_BODY)
    if op.query is not None:
        errors.append(ValidationFailed)
    if IDEMPOTENCY_KEY in op.headers:
        errors.extend((ValidationFailed, IdempotencyKeyReused))
    if IF_MATCH in op.headers:
        errors.append(PreconditionFailed)
    errors.extend(op.errors)
    return list(dict.fromkeys(errors))


def _schema(model: type[BaseModel], schemas: dict[str, Any], inline: bool = False) -> dict[str, Any]:
    """The model's JSON schema, its sub-models moved to components; a $ref to it (or, inline,
    the schema itself)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    if inline:
        return schema
    schemas.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "An error, as RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "The offending fields.",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
