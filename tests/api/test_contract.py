"""The OpenAPI document: valid 3.1, the same operations as the app's route table, and what the
issue promises of every operation (security, errors, 202 headers, examples)."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.shared import openapi


@pytest.fixture
def document(api) -> dict:
    response = api.request("GET", "/openapi.json", headers={"Authorization": None})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def _operations(document: dict) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_the_document_and_the_route_table_list_the_same_operations(document):
    routes = {(m, p) for p, entry in app.routes.items() for m in entry if m != "OPTIONS"}
    assert set(_operations(document)) == routes
    assert len(openapi.ROUTES) == len(routes)  # one entry per route, none registered twice


def test_operation_ids_are_unique_and_links_name_real_operations(document):
    operations = _operations(document).values()
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in ids


def test_every_operation_says_who_may_call_it_and_what_a_bad_token_gets(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for (method, path), op in _operations(document).items():
        assert op["security"], (method, path)
        assert "401" in op["responses"], (method, path)
        problem = op["responses"]["401"]["content"]["application/problem+json"]
        assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    anonymous = {key for key, op in _operations(document).items() if {} in op["security"]}
    assert anonymous == {
        ("GET", "/events"),
        ("GET", "/events/{eventId}"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/redoc"),
        ("GET", "/docs/assets/{name}"),
    }


def test_every_202_sends_location_and_retry_after(document):
    accepted = [op["responses"]["202"] for op in _operations(document).values() if "202" in op["responses"]]
    assert len(accepted) == 7  # register, cancel, accept, decline, capacity change, import, delivery retry
    for response in accepted:
        assert {"Location", "Retry-After"} <= set(response["headers"])


def test_every_request_body_has_an_example_and_every_body_route_its_errors(document):
    for (method, path), op in _operations(document).items():
        if "requestBody" not in op:
            continue
        for media, content in op["requestBody"]["content"].items():
            assert content.get("example") is not None, (method, path, media)
        assert {"413", "415", "422"} <= set(op["responses"]), (method, path)


def test_routes_that_queue_work_take_prefer_wait_and_may_answer_200(document):
    for key in [
        ("POST", "/events/{eventId}/registrations"),
        ("DELETE", "/events/{eventId}/registrations/{userId}"),
        ("PUT", "/events/{eventId}"),
    ]:
        op = _operations(document)[key]
        assert "Prefer" in [p["name"] for p in op["parameters"] if p["in"] == "header"]
        assert "Preference-Applied" in op["responses"]["200"]["headers"]


def test_the_server_is_where_the_api_is_mounted(document):
    assert document["servers"] == [{"url": "/"}]


class _Request:
    def __init__(self, path: str, called: str) -> None:
        self.path, self.context = path, {"path": called}


def test_behind_api_gateway_the_server_is_the_stage_prefix():
    from chalicelib.docs.api import _base_path

    assert _base_path(_Request("/openapi.json", "/api/openapi.json")) == "/api/"
    assert _base_path(_Request("/openapi.json", "/openapi.json")) == "/"
