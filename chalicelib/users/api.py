"""Routes for users."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.bootstrap import caller_of, services
from chalicelib.shared.http import api_route, json_response, read_json
from chalicelib.shared.openapi import LOCATION, Operation, Reply, link
from chalicelib.shared.problems import Conflict
from chalicelib.shared.wire import parse
from chalicelib.users.wire import UserCreate, UserShown, user_json

blueprint = Blueprint(__name__)


@api_route(
    blueprint,
    "/users",
    ["POST"],
    Operation(
        "Create a user (an attendee creates themselves: `userId` is their token's subject)",
        (
            Reply(
                201,
                "The user.",
                UserShown,
                (LOCATION,),
                links={
                    "GetUser": link("get_user", userId="userId"),
                    "UserRegistrations": link("user_registrations", userId="userId"),
                },
            ),
        ),
        (Conflict,),
        body=UserCreate,
        example={"application/json": {"userId": "ada", "name": "Ada Lovelace", "email": "ada@example.org"}},
    ),
)
def create_user() -> Response:
    request = blueprint.current_request
    body = parse(UserCreate, read_json(request))
    user = services().users.create(caller_of(request), body.name, body.email, body.userId)
    return json_response(user_json(user), 201, {"Location": f"/users/{user.user_id}"})


@api_route(
    blueprint,
    "/users/{userId}",
    ["GET"],
    Operation("Get a user (the user, admins)", (Reply(200, "The user.", UserShown),)),
)
def get_user(userId: str) -> Response:
    return json_response(user_json(services().users.get(caller_of(blueprint.current_request), userId)))
