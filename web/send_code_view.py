"""What the "invite someone" area of the booking page and the call's send-code panel show.

One dictionary for ``_send_code.html`` and the booking page's invite form, in the page's language.
The panel's own words live in the template, so the call page (which has no such dictionary) shows
the same ones.
"""

from __future__ import annotations

from typing import Any

from rooms.join_codes import JoinCodeRecord
from rooms.roster import ParticipantRole
from scheduling.join_code_messages import MessageLanguage, QueuedCode, validity_text
from web.i18n import current_language
from web.i18n import gettext as _
from web.messages import message_for

INVITE_ROLES = (ParticipantRole.RELATIVE, ParticipantRole.PATIENT, ParticipantRole.INTERPRETER)


def role_labels() -> dict[str, str]:
    return {"relative": _("Relative"), "patient": _("Patient"), "interpreter": _("Interpreter")}


def validity(record: JoinCodeRecord) -> str:
    lang: MessageLanguage = "en" if current_language() == "en" else "nb"
    return _("The code works {when}, once.").format(when=validity_text(record.valid_from, record.valid_until, lang))


def invite_area(booking_id: str, join_url: str, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, record: JoinCodeRecord | None = None, code: str = "",
                send_values: dict[str, str] | None = None, send_errors: dict[str, str] | None = None,
                queued: QueuedCode | None = None) -> dict[str, Any]:
    """The template context of the invite form and, once a code exists, of its send panel.

    ``values`` and ``send_values`` are what was typed, given back as typed after an error."""
    send_values = send_values or {}
    return {
        "booking_id": booking_id,
        "join_url": join_url,
        "roles": [(r.value, role_labels()[r.value]) for r in INVITE_ROLES],
        "values": values or {"role": ParticipantRole.RELATIVE.value},
        "errors": {k: message_for(v) for k, v in (errors or {}).items()},
        "code": code,
        "name": record.display_name if record is not None else send_values.get("name", ""),
        "validity": validity(record) if record is not None else "",
        "send_values": send_values,
        "send_errors": {k: message_for(v) for k, v in (send_errors or {}).items()},
        "state": queued.state.value if queued is not None else "",
        "message_id": queued.message_id if queued is not None else None,
        "channel": queued.channel.value if queued is not None else "",
        "masked": queued.masked_recipient if queued is not None else "",
    }

