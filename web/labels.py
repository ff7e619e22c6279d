"""Words for stored codes (roles, audit actions, object types) in the user's language."""

from __future__ import annotations

from web.i18n import gettext as _
from web.messages import N_

_ROLES = {
    "coordinator": N_("coordinator"),
    "specialist": N_("specialist"),
    "nurse": N_("nurse"),
    "team_leader": N_("team leader"),
    "admin": N_("administrator"),
    "system": N_("system"),
    "patient": N_("patient"),
    "relative": N_("relative"),
    "interpreter": N_("interpreter"),
}
_ACTIONS = {
    "read": N_("read"),
    "list": N_("saw in a list"),
    "create": N_("created"),
    "update": N_("changed"),
    "delete": N_("deleted"),
    "login": N_("logged in"),
    "cancel": N_("cancelled"),
    "reschedule": N_("moved"),
    "export": N_("exported"),
    "sign": N_("signed"),
    "amend": N_("amended"),
}
_OBJECTS = {
    "patient": N_("patient details"),
    "booking": N_("booking"),
    "referral": N_("referral"),
    "note": N_("consultation note"),
    "recording": N_("recording"),
    "roster": N_("participant list"),
    "reading": N_("reading"),
    "chat": N_("chat"),
    "user": N_("user"),
    "organisation": N_("organisation"),
}


def role_label(code: str) -> str:
    return _(_ROLES[code]) if code in _ROLES else code


def action_label(code: str) -> str:
    return _(_ACTIONS[code]) if code in _ACTIONS else code


def object_label(code: str) -> str:
    return _(_OBJECTS[code]) if code in _OBJECTS else code


_OUTBOX = {
    "pending": N_("waiting to be sent"),
    "sent": N_("sent"),
    "failed": N_("failed, gave up"),
    "no_gateway": N_("not sent: no gateway"),
    "email": N_("email"),
    "sms": N_("text message"),
}


def outbox_label(code: str) -> str:
    return _(_OUTBOX[code]) if code in _OUTBOX else code
