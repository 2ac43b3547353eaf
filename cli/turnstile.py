"""Turnstile's command line.

`python -m cli.turnstile token --subject ID [--group G ...] [--expires-in SECONDS]` prints a bearer
token for the local stack (signed with its key under `.cache/auth/`), and nothing else.

`python -m cli.turnstile import FILE --event EVENT_ID [--api URL] [--token TOKEN]` bulk-imports
registrations. Uploads a CSV (columns userId, name, email) or JSON ({"rows": [...]}) file to a running
Turnstile, shows a progress bar of decided rows until the import completes, then prints a
summary and the first errors. Exit status: 0 completed, 1 the import failed (or timed out),
2 the API refused the file or could not be reached.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import requests
from tqdm import tqdm

DEFAULT_API = os.environ.get("TURNSTILE_API", "http://127.0.0.1:8000")
DEFAULT_TOKEN = os.environ.get("TURNSTILE_TOKEN")
OUTCOMES = ("confirmed", "waitlisted", "alreadyRegistered", "rejected")
# Files above this go to S3 through a presigned form (API Gateway and Lambda cap a request at
# 10 MB and 6 MB); below it they are sent in the request.
DIRECT_LIMIT = 5 * 1024 * 1024


class Refused(Exception):
    """The API answered with an error (problem+json) or could not be reached."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cli.turnstile", description="Turnstile command line")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="bulk-import registrations for an event from a CSV or JSON file")
    imp.add_argument("file", type=Path, help='CSV with a header (userId,name,email) or JSON {"rows": [...]}')
    imp.add_argument("--event", required=True, help="the eventId to register the rows for")
    imp.add_argument("--api", default=DEFAULT_API, help=f"Turnstile API base URL (default {DEFAULT_API})")
    imp.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    imp.add_argument("--errors", type=int, default=10, metavar="N", help="how many row errors to print")
    imp.add_argument("--idempotency-key", help="makes a retried upload return the first import")
    imp.add_argument(
        "--upload",
        action="store_true",
        help=f"upload the file to S3 with a presigned form (automatic above {DIRECT_LIMIT // 2**20} MiB)",
    )
    imp.add_argument("--timeout", type=float, default=3600, help="give up waiting after this many seconds")
    imp.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in CI logs)")
    imp.add_argument(
        "--token",
        default=DEFAULT_TOKEN,
        help="bearer token of the event's owner or an admin (or $TURNSTILE_TOKEN)",
    )
    tok = commands.add_parser("token", help="print a bearer token for the local stack")
    tok.add_argument("--subject", required=True, help="the user id the token is for (its `sub`)")
    tok.add_argument("--group", action="append", default=[], choices=("organizers", "admins"))
    tok.add_argument("--expires-in", type=int, default=3600, metavar="SECONDS", help="default 3600")
    return parser.parse_args(argv)


def _problem(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    lines = [f"HTTP {response.status_code} {body.get('title', '')}: {body.get('detail', '')}"]
    lines += [f"  {e.get('field')}: {e.get('message')}" for e in body.get("errors", [])]
    return "\n".join(lines)


class Api:
    def __init__(self, base: str, session: requests.Session | None = None, token: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.http = session or requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.http.request(method, self.base + path, timeout=60, **kwargs)
        except requests.RequestException as error:
            raise Refused(f"cannot reach {self.base}: {error}") from None
        if response.status_code >= 400:
            raise Refused(_problem(response))
        return response

    def submit(
        self, event_id: str, path: Path, dry_run: bool, key: str | None, upload: bool = False
    ) -> dict[str, Any]:
        """Send the file in the request, or (`upload`, or a file above DIRECT_LIMIT) ask for a
        presigned form and upload it to S3, which starts the import."""
        content_type = "application/json" if path.suffix.lower() == ".json" else "text/csv"
        headers = {"Content-Type": content_type, **({"Idempotency-Key": key} if key else {})}
        params = {"dryRun": "true"} if dry_run else {}
        if not upload and path.stat().st_size <= DIRECT_LIMIT:
            return self._call(
                "POST", f"/events/{event_id}/imports", data=path.read_bytes(), headers=headers, params=params
            ).json()
        params["upload"] = "true"
        accepted = self._call("POST", f"/events/{event_id}/imports", headers=headers, params=params).json()
        if accepted.get("upload"):
            self._upload(accepted["upload"], path, content_type)
        return accepted

    @staticmethod
    def _upload(form: dict[str, Any], path: Path, content_type: str) -> None:
        with path.open("rb") as file:
            try:
                response = requests.post(
                    form["url"],
                    data=form["fields"],
                    files={"file": (path.name, file, content_type)},
                    timeout=600,
                )
            except requests.RequestException as error:
                raise Refused(f"cannot upload to {form['url']}: {error}") from None
        if response.status_code >= 300:
            raise Refused(f"the upload was refused: HTTP {response.status_code}: {response.text[:300]}")

    def status(self, import_id: str) -> tuple[dict[str, Any], float]:
        response = self._call("GET", f"/imports/{import_id}")
        retry_after = response.headers.get("Retry-After", "1")
        return response.json(), float(retry_after) if retry_after.isdigit() else 1.0

    def errors(self, import_id: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
        body = self._call(
            "GET", f"/imports/{import_id}/errors", params={"limit": max(1, min(limit, 100))}
        ).json()
        return body["items"][:limit], bool(body.get("nextCursor"))


def follow(
    api: Api, import_id: str, timeout: float, progress: bool, poll: float = 0.5, out: TextIO | None = None
) -> dict[str, Any]:
    """Poll the import until it finishes, with a bar of decided rows over valid rows."""
    deadline = time.monotonic() + timeout
    bar = None
    try:
        while True:
            body, retry_after = api.status(import_id)
            if progress and bar is None and body["status"] in ("running", "completed") and body["valid"]:
                bar = tqdm(total=body["valid"], unit="row", desc="decided", file=out or sys.stderr)
            if bar is not None:
                bar.update(body["decided"] - bar.n)
                bar.set_postfix({k: body[k] for k in ("confirmed", "waitlisted")}, refresh=False)
            if body["status"] in ("completed", "failed") or time.monotonic() >= deadline:
                return body
            time.sleep(min(poll, retry_after))
    finally:
        if bar is not None:
            bar.close()


def summary(body: dict[str, Any], errors: list[dict[str, Any]], more: bool) -> str:
    lines = [
        f"import {body['importId']} for event {body['eventId']}: {body['status']}"
        + (" (dry run: nothing written)" if body.get("dryRun") else ""),
        f"  rows {body['total']}: {body['valid']} valid, {body['invalid']} invalid",
    ]
    if not body.get("dryRun"):
        lines.append("  " + ", ".join(f"{body[k]} {k}" for k in OUTCOMES))
    if body.get("failure"):
        lines.append(f"  failure: {body['failure']}")
    if errors:
        lines.append("  first errors:")
        lines += [f"    row {e['row']}: {e['field']}: {e['message']}" for e in errors]
        if more:
            lines.append(f"    ... more at GET /imports/{body['importId']}/errors")
    return "\n".join(lines)


def run_import(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=err)
        return 2
    api = Api(args.api, token=args.token)
    try:
        accepted = api.submit(args.event, args.file, args.dry_run, args.idempotency_key, args.upload)
        import_id = accepted["importId"]
        rows = "uploaded" if accepted.get("status") == "awaiting_upload" else f"{accepted['total']} rows"
        print(f"import {import_id} accepted: {rows}", file=err)
        body = follow(api, import_id, args.timeout, progress=not args.no_progress, out=err)
        errors, more = (
            api.errors(import_id, args.errors) if body["invalid"] and args.errors > 0 else ([], False)
        )
    except Refused as error:
        print(f"turnstile: {error}", file=err)
        return 2
    print(summary(body, errors, more), file=out)
    if body["status"] == "completed":
        return 0
    if body["status"] != "failed":
        print(f"turnstile: gave up waiting after {args.timeout:g} s (status {body['status']})", file=err)
    return 1


def print_token(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from devstack import keys  # the local stack's signer (not needed to import a file)

    print(keys.token(args.subject, args.group, args.expires_in), file=out or sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "token":
        return print_token(args)
    return run_import(args)


if __name__ == "__main__":
    sys.exit(main())
