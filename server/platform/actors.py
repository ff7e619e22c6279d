"""Who is acting: the identity every service receives from the authenticated session."""

from __future__ import annotations

from dataclasses import dataclass

from server.people.models import User
from server.platform.roles import Role


@dataclass(frozen=True)
class Actor:
    """A staff user, a guest (patient, relative, interpreter) or the system itself."""

    kind: str
    id: str
    name: str
    role: str
    organisation_id: int | None
    organisation_name: str
    user_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    def has_role(self, *roles: Role) -> bool:
        return self.is_staff and self.role in {r.value for r in roles}


SYSTEM = Actor(kind="system", id="system", name="Samkonsult", role="system", organisation_id=None,
               organisation_name="")


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
