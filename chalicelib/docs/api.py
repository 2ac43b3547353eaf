"""Routes for the contract: the OpenAPI document and the two pages that render it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import Blueprint, Response

from chalicelib.docs import pages
from chalicelib.shared import openapi
from chalicelib.shared.http import api_route, json_response
from chalicelib.shared.openapi import Operation, Reply
from chalicelib.shared.problems import NotFound

blueprint = Blueprint(__name__)
HTML = "text/html; charset=utf-8"
CACHE = {"Cache-Control": "public, max-age=300"}


@api_route(
    blueprint,
    "/openapi.json",
    ["GET"],
    Operation("This API's contract (OpenAPI 3.1)", (Reply(200, "The OpenAPI document."),), anonymous=True),
)
def openapi_document() -> Response:
    return json_response(_document(_base_path(blueprint.current_request)), headers=CACHE)


@lru_cache(maxsize=8)
def _document(server: str) -> dict[str, Any]:
    """The document, built once per process for each base path it is served under (building it
    walks every route: about 0.1 s of CPU)."""
    return openapi.document(server=server)


@api_route(
    blueprint,
    "/docs",
    ["GET"],
    Operation(
        "Swagger UI: try the API in a browser", (Reply(200, "A page.", media="text/html"),), anonymous=True
    ),
)
def swagger_ui() -> Response:
    return _page(pages.swagger_ui("openapi.json", "docs/assets"))


@api_route(
    blueprint,
    "/redoc",
    ["GET"],
    Operation("ReDoc: read the API's reference", (Reply(200, "A page.", media="text/html"),), anonymous=True),
)
def redoc() -> Response:
    return _page(pages.redoc("openapi.json", "docs/assets"))


@api_route(
    blueprint,
    "/docs/assets/{name}",
    ["GET"],
    Operation(
        "A script or style sheet of the documentation pages",
        (Reply(200, "The asset.", media="application/javascript"),),
        anonymous=True,
    ),
)
def docs_asset(name: str) -> Response:
    content = pages.asset(name)
    if content is None:
        raise NotFound(f"There is no documentation asset '{name}'.")
    return Response(
        body=content.decode(), status_code=200, headers={"Content-Type": pages.ASSETS[name], **CACHE}
    )


def _page(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": HTML, **CACHE})


def _base_path(request: Any) -> str:
    """Where the API is mounted: `/` locally, `/{stage}/` behind API Gateway's default domain."""
    called = (request.context or {}).get("path") or request.path
    prefix = called[: len(called) - len(request.path)] if called.endswith(request.path) else ""
    return prefix + "/"
