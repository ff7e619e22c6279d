"""Who is acting: the identity every service receives from the authenticated session."""

from __future__ import annotations

from dataclasses import dataclass

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
