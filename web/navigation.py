"""The navigation each role sees, and each role's start page."""

from __future__ import annotations

from dataclasses import dataclass

from server.platform.actors import Actor
from server.platform.roles import Role
from web.i18n import gettext as _
from web.messages import N_


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    current: bool


_ITEMS: dict[str, list[tuple[str, str]]] = {
    Role.COORDINATOR.value: [("/referrals", N_("Referral queue")), ("/calendar", N_("Calendar")),
                             ("/patients", N_("Patients")), ("/resources", N_("Resources")),
                             ("/outbox", N_("Outbox"))],
    Role.SPECIALIST.value: [("/day", N_("Day list")), ("/calendar", N_("Calendar")),
                            ("/referrals", N_("Referral queue")), ("/patients", N_("Patients"))],
    Role.NURSE.value: [("/day", N_("Day list")), ("/calendar", N_("Calendar")),
                       ("/referrals", N_("Referral queue")), ("/patients", N_("Patients"))],
    Role.TEAM_LEADER.value: [("/team", N_("Team overview")), ("/reports/benefits", N_("Benefits")),
                             ("/consultation-types", N_("Consultation types"))],
    Role.ADMIN.value: [("/admin/users", N_("Users")), ("/admin/organisations", N_("Organisations")),
                       ("/resources", N_("Resources")),
                       ("/reports/benefits", N_("Benefits")), ("/admin/audit", N_("Audit log"))],
}

START_PAGES: dict[str, str] = {
    Role.COORDINATOR.value: "/referrals",
    Role.SPECIALIST.value: "/day",
    Role.NURSE.value: "/day",
    Role.TEAM_LEADER.value: "/team",
    Role.ADMIN.value: "/admin/users",
}


def start_page(actor: Actor) -> str:
    return START_PAGES.get(actor.role, "/account")


def navigation_for(actor: Actor | None, path: str) -> list[NavItem]:
    if actor is None:
        return []
    items = [*_ITEMS.get(actor.role, []), ("/account", N_("My account"))]
    return [NavItem(href, _(label), path == href or path.startswith(href + "/")) for href, label in items]
