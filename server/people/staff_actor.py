"""The actor of a logged-in staff user, as every service receives it."""

from __future__ import annotations

from server.people.models import User
from server.platform.actors import Actor


def staff_actor(user: User) -> Actor:
    """The actor for a logged-in staff user."""
    return Actor(
        kind="staff",
        id=f"user:{user.id}",
        name=user.display_name,
        role=user.role.value,
        organisation_id=user.organisation_id,
        organisation_name=user.organisation.name,
        user_id=user.id,
    )
