"""The CLI's exit status and summary, against a stubbed API."""

from __future__ import annotations

import io

from cli import turnstile


class StubApi:
    def __init__(self, final: dict) -> None:
        self.final = final

    def submit(self, *args):
        return {"importId": "i1", "total": 2}

    def status(self, import_id):
        return self.final, 0.0

    def errors(self, import_id, limit):
        return [{"row": 2, "field": "userId", "message": "is required"}], True


def _run(monkeypatch, tmp_path, final: dict) -> tuple[int, str]:
    monkeypatch.setattr(turnstile, "Api", lambda base, token=None: StubApi(final))
    path = tmp_path / "rows.csv"
    path.write_text("userId\nada\n\n")
    out = io.StringIO()
    args = turnstile.parse_args(["import", str(path), "--event", "e", "--no-progress", "--timeout", "0"])
    return turnstile.run_import(args, out, io.StringIO()), out.getvalue()


BODY = {
    "importId": "i1",
    "eventId": "e",
    "dryRun": False,
    "total": 2,
    "valid": 1,
    "invalid": 1,
    "decided": 0,
    "confirmed": 0,
    "waitlisted": 0,
    "rejected": 0,
    "alreadyRegistered": 0,
    "usersCreated": 0,
}


def test_a_failed_import_exits_1_with_its_reason_and_first_errors(monkeypatch, tmp_path):
    code, out = _run(monkeypatch, tmp_path, {**BODY, "status": "failed", "failure": "the payload is missing"})
    assert code == 1
    assert "failed" in out and "failure: the payload is missing" in out
    assert "row 2: userId: is required" in out and "more at GET /imports/i1/errors" in out


def test_an_import_still_running_at_the_timeout_exits_1(monkeypatch, tmp_path):
    code, _ = _run(monkeypatch, tmp_path, {**BODY, "status": "running"})
    assert code == 1
