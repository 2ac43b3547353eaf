"""Routes for users."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import services
from chalicelib.shared.http import api_route, json_response, read_json
from chalicelib.shared.wire import parse
from chalicelib.users.wire import UserCreate, user_json

blueprint = Blueprint(__name__)


@api_route(blueprint, "/users", ["POST"])
def create_user() -> Response:
    request = parse(UserCreate, read_json(blueprint.current_request))
    user = services().users.create(request.name, request.email, request.userId)
    return json_response(user_json(user), 201, {"Location": f"/users/{user.user_id}"})


@api_route(blueprint, "/users/{userId}", ["GET"])
def get_user(userId: str) -> Response:
    return json_response(user_json(services().users.get(userId)))
