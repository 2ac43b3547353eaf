"""HTTP plumbing every route uses: JSON bodies and their limits, problem+json, CORS, paging,
conditional requests. Views stay thin: parse, call a service, shape the answer."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from chalice import CORSConfig, Response

from chalicelib.shared import cursor, openapi
from chalicelib.shared.cursor import Position
from chalicelib.shared.dynamo import error_code
from chalicelib.shared.openapi import Operation
from chalicelib.shared.problems import (
    BadRequest,
    FieldError,
    InvalidCursor,
    MalformedJson,
    PayloadTooLarge,
    ServiceUnavailable,
    TurnstileError,
    UnsupportedMediaType,
    ValidationFailed,
    problem_body,
    problem_type,
)
from chalicelib.shared.wire import DEFAULT_PAGE_SIZE, ID_PATTERN, MAX_PAGE_SIZE, PATH_ID_PATTERNS

logger = logging.getLogger("turnstile.api")

MAX_BODY_BYTES = 1024 * 1024
ID = re.compile(ID_PATTERN)
ID_RULE = (ID, "must be 1-64 letters, digits, '-' or '_'")
PATH_ID_RULES = {  # a path's ids other than these follow ID_RULE
    "requestId": (
        re.compile(PATH_ID_PATTERNS["requestId"]),
        "must be 1-64 letters, digits, '-' or '_', or three such parts joined by '.'",
    )
}
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


def query(request: Any) -> dict[str, str]:
    """The query parameters (the last value of a repeated one)."""
    return dict(request.query_params or {})


def raw_body(request: Any) -> bytes:
    body = request.raw_body or b""
    return body if isinstance(body, bytes) else body.encode()


def read_json(request: Any) -> Any:
    """The request body as JSON, enforcing the media type and the size limit."""
    body = raw_body(request)
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    media_type = (request.headers.get("content-type") or JSON).split(";")[0].strip().lower()
    if media_type != JSON and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise UnsupportedMediaType(f"Send JSON (Content-Type: {JSON}), not '{media_type}'.")
    try:
        return json.loads(body)
    except RecursionError:
        raise MalformedJson("The request body is nested too deeply.") from None
    except ValueError as error:  # not UTF-8, not JSON, or a number too long to convert
        raise MalformedJson(f"The request body is not valid JSON: {error}.") from None


def problem(error: TurnstileError) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": PROBLEM_JSON, **error.headers}
    return Response(body=problem_body(error), status_code=error.status, headers=headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": JSON, **(headers or {})})


def no_content() -> Response:
    return Response(body="", status_code=204)


def problem_guard(view: Callable[..., Response]) -> Callable[..., Response]:
    """Check the path's ids, run the view, and render a TurnstileError as problem+json."""

    @functools.wraps(view)
    def guarded(**kwargs: Any) -> Response:
        try:
            check_path_ids(kwargs)
            return view(**kwargs)
        except TurnstileError as error:
            return problem(error)
        except (BotoCoreError, ClientError) as error:
            if not aws_unavailable(error):
                raise  # a bug (a malformed request to AWS, say): a 500, logged
            logger.warning("AWS unavailable: %s", error)
            return problem(ServiceUnavailable("A backing service is unavailable; retry shortly."))

    return guarded


# Errors that mean "AWS is busy or out of reach, try again", not "this request is wrong".
_RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


def aws_unavailable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        return error_code(error) in _RETRYABLE_CODES
    return isinstance(
        error, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
    )


def check_path_ids(params: dict[str, str]) -> None:
    """Every id in a path (a parameter named `...Id`) is 1-64 letters, digits, `-` or `_`, and a
    request's id may name its event and person before that, each followed by a dot (no such id
    can exist otherwise, and none may reach a table key: DynamoDB refuses long keys)."""
    rules = {name: PATH_ID_RULES.get(name, ID_RULE) for name in params if name.endswith("Id")}
    errors = [
        FieldError(name, message)
        for name, (rule, message) in rules.items()
        if not rule.fullmatch(params[name])
    ]
    if errors:
        raise BadRequest("The path names an invalid id.", errors)


CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "Idempotency-Key", "If-Match"],
    expose_headers=["Location", "ETag", "Retry-After"],
    max_age=600,
)


def api_route(
    target: Any, path: str, methods: list[str], operation: Operation
) -> Callable[[Callable[..., Response]], Any]:
    """Register a view on a blueprint, and its operation in the API's contract (shared.openapi):
    CORS on, any media type accepted (views check it and answer 415 themselves), and
    TurnstileErrors rendered as problem+json. The feature (`chalicelib.<feature>.api`) is its tag."""

    def register(view: Callable[..., Response]) -> Any:
        tag = view.__module__.split(".")[-2]
        for method in methods:
            openapi.record(path, method, tag, view.__name__, operation)
        return target.route(path, methods=methods, cors=CORS, content_types=["*/*"])(problem_guard(view))

    return register


# An unknown route (API Gateway's MISSING_AUTHENTICATION_TOKEN; chalice local's 403): a 404.
UNKNOWN_ROUTE = {
    "type": problem_type("not-found"),
    "title": "Not Found",
    "status": 404,
    "detail": "No route matches this method and path.",
}

_CHALICE_ERRORS = {
    400: ("bad-request", "Bad Request"),
    403: ("not-found", "Not Found"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    413: ("payload-too-large", "Payload Too Large"),
    415: ("unsupported-media-type", "Unsupported Media Type"),
    500: ("internal-error", "Internal Server Error"),
}


def chalice_error_as_problem(response: Response) -> Response:
    """Chalice's own error bodies ({"Code", "Message"}) rewritten as problem+json."""
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    kind, title = _CHALICE_ERRORS.get(response.status_code, ("about:blank", "Error"))
    response.body = {
        "type": problem_type(kind),
        "title": title,
        "status": response.status_code,
        "detail": body["Message"],
    }
    response.headers["Content-Type"] = PROBLEM_JSON
    return response


# --- paging ------------------------------------------------------------------------------------


def page_parameters(
    params: dict[str, str] | None, secret: str, scope: str = ""
) -> tuple[int, Position | None]:
    """`?limit=` and `?cursor=` validated: (limit, decoded cursor position or None).

    A cursor is only good for the listing (`scope`) that issued it."""
    params = params or {}
    raw_limit = params.get("limit", str(DEFAULT_PAGE_SIZE))
    if not _small_number(raw_limit) or not 1 <= int(raw_limit) <= MAX_PAGE_SIZE:
        raise ValidationFailed(
            "limit is out of range.",
            [FieldError("limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}")],
        )
    raw_cursor = params.get("cursor")
    if not raw_cursor:
        return int(raw_limit), None
    decoded = cursor.decode(raw_cursor, secret)
    if decoded.get("scope") != scope or not isinstance(decoded.get("position"), dict):
        raise InvalidCursor("The cursor belongs to another listing.")
    return int(raw_limit), decoded["position"]


def page(items: list[Any], next_position: Position | None, secret: str, scope: str = "") -> dict[str, Any]:
    token = cursor.encode({"scope": scope, "position": next_position}, secret) if next_position else None
    return {"items": items, "nextCursor": token}


def listing(
    request: Any,
    secret: str,
    scope: str,
    fetch: Callable[[int, Position | None], tuple[Iterable[Any], Position | None]],
    shape: Callable[[Any], Any] = lambda row: row,
) -> Response:
    """A page of a listing: `?limit=`/`?cursor=` in, `{"items", "nextCursor"}` out."""
    limit, after = page_parameters(query(request), secret, scope)
    found, next_position = fetch(limit, after)
    return json_response(page([shape(row) for row in found], next_position, secret, scope))


# --- waiting for an outcome --------------------------------------------------------------------

WAIT_MARGIN_SECONDS = 3.0  # the last read and the answer, inside the API Lambda's timeout


def time_to_wait(target: Any) -> float:
    """Seconds a route may still spend waiting for an outcome (`Prefer: wait`): the Lambda's
    remaining time less a margin (unbounded where nothing says: tests, the local server)."""
    remaining = getattr(getattr(target, "lambda_context", None), "get_remaining_time_in_millis", None)
    return float("inf") if remaining is None else max(0.0, remaining() / 1000 - WAIT_MARGIN_SECONDS)


# --- conditional requests ------------------------------------------------------------------------


def parse_if_match(header: str | None) -> int | None:
    """The version an `If-Match` header asks for; None when absent or `*`; -1 if unparsable."""
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    return int(value) if _small_number(value) else -1


def _small_number(text: str) -> bool:
    """ASCII digits only (`"²".isdigit()` is true), and few enough to be an int we use."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def etag(version: int) -> str:
    return f'"{version}"'
