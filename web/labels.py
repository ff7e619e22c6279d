"""Words for stored codes (roles, audit actions, object types, audit reasons) in the user's language.

The one place a stored code becomes words: pages never show a code itself.
"""

from __future__ import annotations

from server.platform.audit_reasons import AuditReason
from web.i18n import LANGUAGES, gettext_in
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
    "feed": N_("calendar subscription"),
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
    "print": N_("printed"),
    "close": N_("closed"),
    "revoke": N_("revoked"),
    "enrol_totp": N_("set up two-factor login"),
    "change_password": N_("changed password"),
    # The joint note
    "read_versions": N_("read earlier versions"),
    "read_version": N_("read an earlier version"),
    "read_shared": N_("read the shared summary"),
    "save": N_("saved"),
    "share": N_("shared with the patient"),
    "unshare": N_("stopped sharing with the patient"),
    "export:text": N_("exported as text"),
    "export:pdf": N_("exported as PDF"),
    "export:fhir": N_("exported to a record system (FHIR)"),
    # The live consultation
    "joined": N_("joined"),
    "rejoined": N_("joined again"),
    "resumed": N_("reconnected"),
    "left": N_("left"),
    "admitted": N_("let someone in"),
    "denied": N_("turned someone away"),
    "removed": N_("removed someone"),
    "invited": N_("invited someone"),
    "join_code_issued": N_("made a join code"),
    "join_code_sent": N_("sent a join code"),
    "ended": N_("ended the consultation"),
    "chat_posted": N_("wrote in the chat"),
    "reading_posted": N_("shared a measurement"),
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
    "consultation": N_("video consultation"),
    "access_log": N_("list of who has looked"),
    "calendar_feed": N_("calendar subscription"),
    "feed_token": N_("calendar subscription link"),
}

_REASONS = {
    AuditReason.PATIENT_LIST: N_("patient list"),
    AuditReason.REFERRAL_QUEUE: N_("referral queue"),
    AuditReason.DAY_LIST: N_("day list"),
    AuditReason.CALENDAR: N_("calendar"),
    AuditReason.SHARED_SUMMARY: N_("the summary shared with the patient"),
    AuditReason.CONSULTATION_PARTICIPANT: N_("takes part in the consultation"),
    AuditReason.READING_FROM_CALL: N_("measurement from the video consultation"),
    AuditReason.DEMO_DATA: N_("demo data"),
    AuditReason.IDEMPOTENT_REPLAY: N_("the same booking sent again"),
    AuditReason.PATIENT_OWN_ACCESS_LOG: N_("the patient's own overview"),
    AuditReason.PATIENT_ACCESS_REQUEST: N_("access request from the patient"),
    AuditReason.CONSULTATION: N_("consultation"),
    AuditReason.SCHEDULING: N_("booking and planning"),
    AuditReason.NOT_STATED: N_("no reason given"),
}

ACCESS_REASONS = (
    N_("Planned joint consultation"),
    N_("Ongoing treatment"),
    N_("Referral"),
    N_("Follow-up after discharge"),
)
"""The reasons staff pick from before they open a patient; stored in the picker's language."""
_PICKED = (*ACCESS_REASONS, N_("Registration"))


def role_label(code: str) -> str:
    return _(_ROLES[code]) if code in _ROLES else code


def action_label(code: str) -> str:
    return _(_ACTIONS[code]) if code in _ACTIONS else code


def object_label(code: str) -> str:
    return _(_OBJECTS[code]) if code in _OBJECTS else code


def reason_label(code: AuditReason) -> str:
    """The words for a reason code (every ``AuditReason`` has them)."""
    return _(_REASONS[code])


def stated_reason_label(text: str) -> str:
    """A reason a person gave, as they gave it; one picked from our list is shown in the reader's
    language, whichever language it was picked in."""
    for message in _PICKED:
        if text == message or any(text == gettext_in(lang, message) for lang in LANGUAGES):
            return _(message)
    return text


def has_labels(*, actions: tuple[str, ...] = (), objects: tuple[str, ...] = (), roles: tuple[str, ...] = (),
               reasons: tuple[AuditReason, ...] = ()) -> bool:
    """Whether every code given has its words (the tests ask this of every code the services write)."""
    return (all(a in _ACTIONS for a in actions) and all(o in _OBJECTS for o in objects)
            and all(r in _ROLES for r in roles) and all(r in _REASONS for r in reasons))


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
