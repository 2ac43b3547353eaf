"""Users routes and their errors."""

from __future__ import annotations

import pytest


def test_create_and_read_a_user(api):
    response = api.request("POST", "/users", {"userId": "ada", "name": "Ada", "email": "ada@example.org"})
    assert response.status_code == 201
    assert response.headers["Location"] == "/users/ada"
    fetched = api.json(api.request("GET", "/users/ada"))
    assert fetched["name"] == "Ada" and fetched["email"] == "ada@example.org"


def test_user_id_is_generated_and_email_optional(api):
    body = api.json(api.request("POST", "/users", {"name": "Grace"}))
    assert body["userId"] and "email" not in body


def test_duplicate_user_is_409(api):
    api.request("POST", "/users", {"userId": "ada", "name": "Ada"})
    assert api.request("POST", "/users", {"userId": "ada", "name": "Ada"}).status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "Ada", "email": "not-an-email"}, "email"),
        ({"name": "Ada", "email": "a@b"}, "email"),
        ({"name": "Ada", "userId": "bad id"}, "userId"),
        ({"name": "Ada", "role": "admin"}, "role"),
        ({}, "name"),
    ],
)
def test_invalid_users_are_422(api, body, field):
    response = api.request("POST", "/users", body)
    assert response.status_code == 422
    assert field in [e["field"] for e in api.json(response)["errors"]]


def test_unknown_user_is_404(api):
    response = api.request("GET", "/users/nobody")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
