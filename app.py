"""Turnstile's HTTP API: the Chalice app and each feature's routes (a blueprint per feature)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib.docs.api import blueprint as docs_api
from chalicelib.events.api import blueprint as events_api
from chalicelib.imports.api import blueprint as imports_api
from chalicelib.registrations.api import blueprint as registrations_api
from chalicelib.shared import observability
from chalicelib.shared.config import on_aws, require_deployed_keys, settings
from chalicelib.shared.http import chalice_error_as_problem
from chalicelib.users.api import blueprint as users_api
from chalicelib.webhooks.api import blueprint as webhooks_api

if on_aws():  # a misconfigured deployment fails its first start, with the reason in the log
    require_deployed_keys(settings(), serves_api=True)

app = Chalice(app_name="turnstile")
for blueprint in (events_api, users_api, registrations_api, webhooks_api, imports_api, docs_api):
    app.register_blueprint(blueprint)
app.register_middleware(observability.http_middleware, "http")  # correlation id, metrics


@app.middleware("http")
def problems_for_framework_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    return chalice_error_as_problem(get_response(event))
