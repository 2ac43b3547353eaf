"""Who is in which group now: the Cognito user pool (the source of the tokens' `cognito:groups`).

The dispatcher asks before a delivery that reached its subscription through an admin's reach
(every event's notifications): a user removed from `admins` stops receiving other organizers'
notifications at the next delivery, not when their subscription happens to be changed. Answers
are kept for a minute per subject, so a burst of deliveries asks the pool once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

CACHE_SECONDS = 60.0


class CognitoGroupDirectory:
    def __init__(self, client: Any, user_pool_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._pool = user_pool_id
        self._clock = clock
        self._known: dict[str, tuple[float, frozenset[str]]] = {}

    def groups_of(self, subject: str) -> frozenset[str] | None:
        now = self._clock()
        cached = self._known.get(subject)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        groups = self._ask(subject)
        self._known[subject] = (now, groups)
        return groups

    def _ask(self, subject: str) -> frozenset[str]:
        """The user's groups (their username is their `sub` in a pool that signs in by email);
        none for a user the pool no longer has."""
        names: set[str] = set()
        request: dict[str, Any] = {"UserPoolId": self._pool, "Username": subject}
        try:
            while True:
                page = self._client.admin_list_groups_for_user(**request)
                names |= {group["GroupName"] for group in page.get("Groups", [])}
                if not page.get("NextToken"):
                    return frozenset(names)
                request["NextToken"] = page["NextToken"]
        except self._client.exceptions.UserNotFoundException:
            return frozenset()
