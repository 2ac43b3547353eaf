"""Malformed input is a 4xx problem+json, never a 500: the cases found by hand, then generated
junk against every route."""

from __future__ import annotations

import json
import re
import string

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import app
from chalicelib import bootstrap
from chalicelib.webhooks import policy
from chalicelib.webhooks.http import SocketResolver
from chalicelib.webhooks.service import UrlGuard
from tests.fakes import ADMIN, memory_services


@pytest.fixture(scope="module")
def http():
    bootstrap.use(memory_services())
    with Client(app) as client:
        body = {"eventId": "e1", "title": "t", "date": "2026-01-01", "capacity": 3}
        client.http.post(
            "/events", headers={**ADMIN, "Content-Type": "application/json"}, body=json.dumps(body)
        )
        yield client.http
    bootstrap.use(None)


def call(http, method: str, path: str, body: bytes | str = b"", **headers: str):
    response = getattr(http, method)(
        path, headers={"Content-Type": "application/json", **ADMIN, **headers}, body=body
    )
    return response.status_code, (json.loads(response.body) if response.body else None), response


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("get", "/events?limit=²", b"", {}, 422),  # a digit to str.isdigit(), not to int()
        ("get", "/events?limit=" + "9" * 5000, b"", {}, 422),
        ("put", "/events/e1", json.dumps({"title": "x"}), {"If-Match": '"²"'}, 412),
        ("put", "/events/e1", json.dumps({"title": "x"}), {"If-Match": '"' + "1" * 5000 + '"'}, 412),
        ("post", "/events", "[" * 100_000 + "]" * 100_000, {}, 400),  # nested past the recursion limit
        ("post", "/events", '{"capacity": ' + "9" * 5000 + "}", {}, 400),  # past int's digit limit
        ("get", "/events/" + "x" * 3000, b"", {}, 400),  # no such id can exist, or reach a key
        ("get", "/events/bad%20id", b"", {}, 400),
        ("delete", "/events/e1/registrations/" + "é" * 10, b"", {}, 400),
    ],
)
def test_each_malformed_input_found_by_hand_is_a_4xx(http, method, path, body, headers, status):
    code, problem, response = call(http, method, path, body, **headers)
    assert code == status, problem
    assert response.headers["Content-Type"] == "application/problem+json"


def test_an_invalid_path_id_names_the_parameter(http):
    _, problem, _ = call(http, "get", "/users/" + "u" * 65)
    assert problem["errors"] == [{"field": "userId", "message": "must be 1-64 letters, digits, '-' or '_'"}]


@pytest.mark.parametrize(
    ("request_id", "status"),
    [
        ("e1.ada.0f3c", 404),  # a register's or cancel's id: its event, its person, then its own
        ("0f3c5a", 404),  # any other request's
        ("e1.ada", 400),
        ("e1.ada.0f3c.more", 400),
        ("e1..0f3c", 400),
        (f"{'e' * 65}.ada.0f3c", 400),
        ("e1.ada.0f 3c", 400),
    ],
)
def test_a_request_id_is_an_id_or_three_joined_by_dots(http, request_id, status):
    code, problem, _ = call(http, "get", f"/requests/{request_id}")
    assert code == status, problem
    if status == 400:
        assert [e["field"] for e in problem["errors"]] == ["requestId"]


def test_a_bad_query_parameter_says_it_is_the_query(http):
    _, problem, _ = call(http, "get", "/events?status=bogus")
    assert problem["detail"] == "The query string has invalid fields."
    assert problem["errors"][0]["field"] == "status"


@pytest.mark.parametrize("url", ["http://a..b/", "http://" + "x" * 64 + ".example/", "http://-/"])
def test_a_url_that_cannot_even_be_looked_up_is_refused_not_a_crash(url):
    with pytest.raises(policy.UrlRefused):
        UrlGuard(SocketResolver(), allow_loopback=False).check(url)


ROUTES = sorted((method, path) for path, entry in app.routes.items() for method in entry)
# What an HTTP client can put in a path segment: no control characters, no separators.
path_text = st.text(
    st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters="/?#%"),
    min_size=1,
    max_size=40,
)
segment = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=70), path_text, st.just("e1")
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)  # printable ASCII
junk_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=4),  # ², ٣, ½: "digits"
    st.integers(min_value=-5, max_value=10**30).map(str),
)
query = st.dictionaries(st.sampled_from(["limit", "cursor", "status", "dryRun", "x"]), junk_text, max_size=3)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "text/csv", "text/plain", "application/x+json", ""]
        ),
        "If-Match": st.one_of(header_text, st.integers(-5, 10**30).map(lambda n: f'"{n}"')),
        "Idempotency-Key": header_text,
        "Authorization": st.one_of(st.just(ADMIN["Authorization"]), header_text.map(lambda t: "Bearer " + t)),
    },
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
body = st.one_of(st.binary(max_size=200), json_value.map(lambda v: json.dumps(v).encode()), st.just(b""))


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ids=st.lists(segment, min_size=4, max_size=4), query=query, headers=headers, body=body)
def test_generated_junk_never_gets_a_5xx(http, route, ids, query, headers, body):
    method, template = route
    values = iter(ids)
    path = re.sub(r"\{\w+\}", lambda _: next(values), template)
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    sent = {"Authorization": None, **headers}
    response = getattr(http, method.lower())(
        path, headers={k: v for k, v in sent.items() if v is not None}, body=body
    )
    assert response.status_code < 500, (method, path, headers, body, response.body)
    if response.status_code >= 400 and method != "OPTIONS":
        assert response.headers["Content-Type"] == "application/problem+json", response.body
