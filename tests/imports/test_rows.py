"""Parsing and checking import rows: pure functions, no I/O."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from chalicelib.imports.rows import (
    CSV,
    JSON,
    MAX_BYTES,
    MAX_ROWS,
    Row,
    RowError,
    check_rows,
    media_type,
    parse_payload,
)
from chalicelib.shared.problems import (
    BadRequest,
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

ROOT = Path(__file__).resolve().parents[2]


def test_csv_rows_are_numbered_from_one_after_the_header_skipping_blank_lines():
    body = b'\xef\xbb\xbfuserId, name ,email\r\nada,Ada Lovelace,ada@example.org\r\n\r\n bob ,"Bob, Jr",\r\n'
    raw = parse_payload(CSV, body)
    assert raw == [
        {"userId": "ada", "name": "Ada Lovelace", "email": "ada@example.org"},
        {"userId": "bob", "name": "Bob, Jr", "email": ""},
    ]
    checked = check_rows(raw)
    assert checked.rows == [Row(1, "ada", "Ada Lovelace", "ada@example.org"), Row(2, "bob", "Bob, Jr", None)]
    assert checked.errors == [] and checked.total == 2


def test_the_columns_may_come_in_any_order_and_name_and_email_are_optional():
    assert parse_payload(CSV, b"email,userId\nx@y.io,ada\n") == [{"email": "x@y.io", "userId": "ada"}]
    assert check_rows(parse_payload(CSV, b"userId\nada\n")).rows == [Row(1, "ada")]


def test_each_bad_row_is_reported_with_its_row_number_and_field():
    checked = check_rows(
        [
            {"userId": "ada", "name": "Ada", "email": "ada@example.org"},
            {"userId": "", "name": "No id"},
            {"name": "No id either"},
            {"userId": "bad id!", "name": "Spaces"},
            {"userId": "bob", "email": "not-an-email"},
            {"userId": "ada", "name": "Ada again"},
            {"userId": "cy", "name": "x" * 201},
            {"userId": "dee", "nickname": "D"},
            ["not", "an", "object"],
            {"userId": 7, "name": "Number"},
            {"userId": "eve", "name": "Eve", "email": "eve@example.org"},
        ]
    )
    assert [r.row for r in checked.rows] == [1, 11]
    found = {(e.row, e.field) for e in checked.errors}
    assert found == {
        (2, "userId"),
        (3, "userId"),
        (4, "userId"),
        (5, "email"),
        (6, "userId"),
        (7, "name"),
        (8, "nickname"),
        (9, "row"),
        (10, "userId"),
    }
    messages = {e.row: e.message for e in checked.errors}
    assert messages[2] == messages[3] == "is required"
    assert messages[5] == "must be a valid email address"
    assert messages[6] == "user 'ada' is already in row 1"
    assert checked.invalid == 9


def test_a_row_with_more_cells_than_the_header_is_an_error():
    checked = check_rows(parse_payload(CSV, b"userId,name\nada,Ada,extra\n"))
    assert checked.errors == [RowError(1, "row", "has 3 cells, more than the header")]


def test_json_payloads_hold_a_rows_array():
    raw = parse_payload(JSON, json.dumps({"rows": [{"userId": "ada", "name": "Ada"}]}).encode())
    assert check_rows(raw).rows == [Row(1, "ada", "Ada")]
    with pytest.raises(MalformedJson):
        parse_payload(JSON, b"{oops")
    for hostile in (
        b'{"rows": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"rows": [' + b"9" * 5000 + b"]}",
    ):
        with pytest.raises(MalformedJson):  # nested past the recursion limit; a number too long to convert
            parse_payload(JSON, hostile)
    for bad in ([], {"rows": {}}, {"rows": [], "extra": 1}, {"items": []}):
        with pytest.raises(ValidationFailed):
            parse_payload(JSON, json.dumps(bad).encode())


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", ValidationFailed),
        (b"name,email\nAda,a@b.io\n", ValidationFailed),
        (b"userId,phone\nada,1\n", ValidationFailed),
        (b"userId,userId\nada,ada\n", ValidationFailed),
        (b"userId\n\xff\xfe\n", BadRequest),
        (b'userId\n"ada\n', BadRequest),
    ],
)
def test_a_csv_file_without_a_usable_header_or_encoding_is_refused(body, error):
    with pytest.raises(error):
        parse_payload(CSV, body)


def test_limits_rows_and_bytes():
    assert len(parse_payload(CSV, b"userId\n" + b"u\n" * MAX_ROWS)) == MAX_ROWS
    with pytest.raises(PayloadTooLarge):
        parse_payload(CSV, b"userId\n" + b"u\n" * (MAX_ROWS + 1))
    with pytest.raises(PayloadTooLarge):
        parse_payload(JSON, json.dumps({"rows": [{}] * (MAX_ROWS + 1)}).encode())
    with pytest.raises(PayloadTooLarge):
        parse_payload(CSV, b"userId\n" + b"x" * MAX_BYTES)


def test_media_types():
    assert media_type("text/csv; charset=utf-8") == CSV
    assert media_type("application/json") == media_type("application/vnd.rows+json") == JSON
    for other in (None, "", "text/plain", "application/x-www-form-urlencoded", "application/xml"):
        with pytest.raises(UnsupportedMediaType):
            media_type(other)


ADAPTERS = {"dynamodb", "s3", "sqs", "memory", "seat_store", "http", "aws"}


def test_row_parsing_and_the_import_services_do_no_io():
    """rows.py is pure; services and ports reach the world only through ports (no boto3, no adapters)."""
    for name in ("rows.py", "service.py", "ports.py"):
        tree = ast.parse((ROOT / "chalicelib" / "imports" / name).read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for module in modules:
            assert not module.startswith(("boto", "botocore")), f"{name} imports {module}"
            assert module.split(".")[-1] not in ADAPTERS, f"{name} imports the adapter {module}"
            if name == "rows.py":
                assert module.split(".")[0] not in {"socket", "time", "uuid", "random", "requests"}
