"""Words for stored codes in the user's language: roles, audit actions, object types and reasons, outbox
states and failures, equipment, languages, calendar errors and kinds of consultation.

One function per vocabulary, so a page never shows a code and never words the same code twice."""

from __future__ import annotations

from collections.abc import Iterable

from babel import Locale, UnknownLocaleError

from scheduling.equipment import EQUIPMENT_KINDS
from server.platform.audit_reasons import AuditReason, context_reason
from web.i18n import LANGUAGES, babel_locale, current_language, gettext_in
from web.i18n import gettext as _
from web.messages import N_, message_for

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
    "view": N_("viewed"),
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
    "deactivate": N_("deactivated"),
    "reactivate": N_("reactivated"),
    "reset_password": N_("gave a temporary password"),
    "reset_totp": N_("reset two-factor login"),
    "import": N_("imported from a file"),
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
    "waiting_room_message": N_("wrote to those waiting"),
    "join_code_issued": N_("made a join code"),
    "join_code_sent": N_("sent a join code"),
    "ended": N_("ended the consultation"),
    "chat_posted": N_("wrote in the chat"),
    "reading_posted": N_("shared a measurement"),
    # Recording of a consultation, only with everyone's consent
    "recording_proposed": N_("proposed recording the consultation"),
    "recording_agreed": N_("agreed to the recording"),
    "recording_declined": N_("declined the recording"),
    "recording_withdrawn": N_("withdrew consent to the recording"),
    "recording_started": N_("started a recording"),
    "recording_stopped": N_("a recording stopped"),
    "recording_deleted": N_("deleted a recording"),
    "recording_played": N_("played a recording"),
    # A booking's status set by hand (scheduling.services.bookings writes "status:<new status>")
    "status:booked": N_("set back to booked"),
    "status:arrived": N_("marked as arrived"),
    "status:in_progress": N_("marked as under way"),
    "status:completed": N_("marked as held"),
    "status:cancelled": N_("marked as cancelled"),
    "status:no_show": N_("marked as not attended"),
    # Refused: no permission, or not theirs
    "refused": N_("was refused"),
}
_OBJECTS = {
    "patient": N_("patient details"),
    "booking": N_("booking"),
    "consultation_outcome": N_("what followed the consultation"),
    "referral": N_("referral"),
    "note": N_("consultation note"),
    "recording": N_("recording"),
    "roster": N_("participant list"),
    "reading": N_("reading"),
    "chat": N_("chat"),
    "user": N_("user"),
    "organisation": N_("organisation"),
    "department": N_("department"),
    "municipality_travel": N_("travel to the hospital"),
    "consultation": N_("video consultation"),
    "access_log": N_("list of who has looked"),
    "calendar_feed": N_("calendar subscription"),
    "feed_token": N_("calendar subscription link"),
    "benefits_report": N_("benefits report"),
    "benefit_settings": N_("settings of the benefits report"),
    "request": N_("page or address"),
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
    AuditReason.AUDIT_REVIEW: N_("review of the audit log"),
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


def action_options() -> list[tuple[str, str]]:
    """Every action code with its words, for a filter; ordered by the words."""
    return sorted(((code, _(label)) for code, label in _ACTIONS.items()), key=lambda pair: pair[1].lower())


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


def audit_reason_text(object_type: str, reason: str) -> str:
    """Why a row was written, in words: a code's label, or the reason a person gave."""
    code = context_reason(object_type, reason)
    return reason_label(code) if code is not None else stated_reason_label(reason)


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


_OUTBOX_FAILURES = {
    "no_email_gateway": N_("No mail server is set up, so email cannot be sent."),
    "no_sms_gateway": N_("No SMS service is set up, so text messages cannot be sent."),
    "unreachable": N_("The mail server could not be reached."),
    "timeout": N_("The mail server did not answer in time."),
    "recipient_refused": N_("The mail server refused the address. Check it."),
    "authentication": N_("The mail server refused our login. Tell the system administrator."),
    "refused": N_("The mail server refused the message."),
    "delivery_failed": N_("The message could not be sent."),
}


def outbox_failure_label(code: str) -> str:
    """Why a message was not sent, from its stored code; "" when nothing failed."""
    if not code:
        return ""
    return _(_OUTBOX_FAILURES.get(code, _OUTBOX_FAILURES["delivery_failed"]))


# The equipment a health room can have, by its stored code. A code added later without a word here
# still reads as words rather than as an identifier.
_EQUIPMENT = {
    "room_camera": N_("Room camera"),
    "examination_camera": N_("Examination camera"),
    "blood_pressure_monitor": N_("Blood pressure monitor"),
    "pulse_oximeter": N_("Pulse oximeter"),
    "thermometer": N_("Thermometer"),
    "scale": N_("Scales"),
    "stethoscope": N_("Stethoscope"),
    "otoscope": N_("Otoscope"),
    "ecg": N_("ECG"),
    "speakerphone": N_("Speakerphone"),
}


def equipment_label(code: str) -> str:
    if code in _EQUIPMENT:
        return _(_EQUIPMENT[code])
    return code.replace("_", " ").capitalize()


def equipment_list(codes: Iterable[str]) -> str:
    """A room's equipment as a reader's list: "Romkamera, Blodtrykksmåler"."""
    return ", ".join(equipment_label(code) for code in codes)


def language_label(code: str) -> str:
    """A language code (``nb``, ``se``, ``pl``) as the language's name in the reader's language, from
    the Unicode CLDR data Babel carries; an unknown code is shown as given."""
    if not code:
        return ""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(babel_locale())
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


PATIENT_LANGUAGES = ("nb", "nn", "se", "en", "pl", "lt", "uk", "ar", "so", "ti", "fa", "ur", "sv", "da", "de",
                     "ru", "es", "fr", "th", "vi")
"""The languages offered for a patient, first the ones most patients in Norway speak; the stored code
may be any other language code too."""


def language_options(current: str = "") -> list[tuple[str, str]]:
    """(code, name) for a language select: the usual ones, and the patient's own when it is not among them."""
    codes = list(PATIENT_LANGUAGES)
    if current and current not in codes:
        codes.append(current)
    return [(code, language_label(code)) for code in codes]


# Three kinds of failure only (refused address / could not reach / not a calendar): finer wording,
# such as the HTTP status, would let anyone who can add a feed map which hosts and ports answer.
_ADDRESS_REFUSALS = frozenset({"calendar.fetch_url", "calendar.fetch_credentials", "calendar.fetch_refused"})
_UNREACHABLE = frozenset({"calendar.fetch_unreachable",
                          # stored before the three kinds existed
                          "calendar.fetch_status", "calendar.fetch_timeout", "calendar.fetch_failed"})


def calendar_error_label(last_error: str) -> str:
    """Why a calendar feed could not be read, worded from the code its stored error starts with
    (``calendar.fetch_unreachable: ...``): the address was refused (the reason, as when it is added),
    it could not be fetched, or what came back is not a calendar we can read."""
    if not last_error:
        return ""
    code = last_error.split(":", 1)[0].strip()
    if code in _ADDRESS_REFUSALS:
        return message_for(code)
    if code in _UNREACHABLE:
        return _("The calendar could not be fetched from this address.")
    return _("The address did not give a calendar we can read (iCalendar, .ics).")


def consultation_type_label(name: str, name_en: str = "") -> str:
    """A kind of consultation in the reader's language: its English name on English pages when it has
    one, else its own (Norwegian) name."""
    return name_en if current_language() == "en" and name_en else name


_AUDIT_PROBLEMS = {
    "missing": N_("Row %(seq)d is missing."),
    "out_of_order": N_("Row %(seq)d does not follow the row before it."),
    "changed": N_("Row %(seq)d has been changed."),
    "truncated": N_("Rows have been removed from the end of the log, from row %(seq)d."),
    "checkpoint_missing": N_("Rows have been removed: a signed checkpoint saw more rows than the log has, "
                             "from row %(seq)d."),
    "checkpoint_changed": N_("Row %(seq)d differs from what a signed checkpoint saw."),
    "checkpoint_marker": N_("The marker of rows from before the audit key was moved (it was %(seq)d)."),
}


def audit_problem_label(code: str, seq: int | None) -> str:
    """What the audit chain check found wrong, worded for the administrator."""
    if code == "checkpoint_forged":
        return _("The file of signed checkpoints kept outside the database has been altered.")
    message = _AUDIT_PROBLEMS.get(code)
    if message is None or seq is None:
        return _("The chain of rows does not add up.")
    return _(message) % {"seq": seq}


_RESOURCE_KINDS = {"person": N_("Person"), "health_room": N_("Health room"), "equipment": N_("Equipment")}
_ORGANISATION_KINDS = {"hospital": N_("Hospital"), "municipality": N_("Municipality")}


def resource_kind_label(code: str) -> str:
    """What a bookable resource is: a person, a health room or a piece of equipment."""
    return _(_RESOURCE_KINDS[code]) if code in _RESOURCE_KINDS else code


def organisation_kind_label(code: str) -> str:
    return _(_ORGANISATION_KINDS[code]) if code in _ORGANISATION_KINDS else code


def organisation_kind_options() -> list[tuple[str, str]]:
    """(code, words) for choosing what kind an organisation is."""
    return [(code, _(label)) for code, label in _ORGANISATION_KINDS.items()]


def equipment_options() -> list[tuple[str, str]]:
    """(code, words) for every equipment kind a room can have or a trust can book, by words."""
    return sorted(((code, equipment_label(code)) for code in EQUIPMENT_KINDS), key=lambda pair: pair[1])


def equipment_names() -> dict[str, str]:
    """Equipment as people write it in a spreadsheet, in every language we speak, lower case -> code."""
    return {gettext_in(lang, message).lower(): code for code, message in _EQUIPMENT.items() for lang in LANGUAGES}


_PROFESSIONS = {
    "doctor": N_("doctor"),
    "nurse": N_("nurse"),
    "physiotherapist": N_("physiotherapist"),
    "occupational_therapist": N_("occupational therapist"),
    "pharmacist": N_("pharmacist"),
    "patient_coordinator": N_("patient coordinator"),
    "health_secretary": N_("health secretary"),
}


def profession_label(code: str) -> str:
    """A staff member's profession in words ("sykepleier"); "" for none. Text from before professions
    were codes reads as it was written."""
    return _(_PROFESSIONS[code]) if code in _PROFESSIONS else code


def profession_options() -> list[tuple[str, str]]:
    """(code, words) for choosing a profession, in the order the teams list them."""
    return [(code, _first_upper(_(label))) for code, label in _PROFESSIONS.items()]


_TRANSPORT = {
    "car": N_("Car"),
    "bus": N_("Bus"),
    "express_boat": N_("Express boat"),
    "plane": N_("Plane"),
    "train": N_("Train"),
    "patient_transport": N_("Patient transport"),
}


def transport_label(code: str) -> str:
    """How people usually travel to the hospital, in words."""
    return _(_TRANSPORT[code]) if code in _TRANSPORT else code


def transport_options() -> list[tuple[str, str]]:
    return [(code, _(label)) for code, label in _TRANSPORT.items()]


def role_options() -> list[tuple[str, str]]:
    """(code, words) for choosing a staff member's role."""
    return [(code, _first_upper(_(_ROLES[code]))) for code in ("coordinator", "specialist", "nurse",
                                                                 "team_leader", "admin")]


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]
