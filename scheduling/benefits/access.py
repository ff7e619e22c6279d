"""Who may see the benefits report and change its settings."""

from __future__ import annotations

from server.platform.actors import Actor
from server.platform.errors import PermissionDenied
from server.platform.roles import Role

REPORT_ROLES = (Role.TEAM_LEADER, Role.ADMIN)
"""Team leaders read the report for their reports; administrators too. Nobody else: even aggregates say
something about a small municipality's patients."""
SETTINGS_ROLES = (Role.ADMIN,)


def require(actor: Actor, *roles: Role, what: str) -> None:
    # the same check as the scheduling services' own; repeated because the services package imports this one
    if not actor.has_role(*roles):
        raise PermissionDenied(f"not allowed to {what}")
