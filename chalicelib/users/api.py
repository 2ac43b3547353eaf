"""Routes for users."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.shared.http import api_route, json_response, read_json
from chalicelib.shared.wire import parse
from chalicelib.users.wire import UserCreate, user_json

blueprint = Blueprint(__name__)


@api_route(blueprint, "/users", ["POST"])
def create_user() -> Response:
    request = blueprint.current_request
    body = parse(UserCreate, read_json(request))
    user = services().users.create(caller_of(request), body.name, body.email, body.userId)
    return json_response(user_json(user), 201, {"Location": f"/users/{user.user_id}"})


@api_route(blueprint, "/users/{userId}", ["GET"])
def get_user(userId: str) -> Response:
    return json_response(user_json(services().users.get(caller_of(blueprint.current_request), userId)))
