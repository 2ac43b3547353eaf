"""The user: someone who registers for events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    email: str | None = None
    created_at: str = ""
