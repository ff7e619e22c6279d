"""The note pages: the editor of a consultation's note on its own page, and a printable summary.

The editor itself is a JavaScript module (``/static/notes/editor.js``) that talks to the notes API; the page
hands it the note's API address, the CSRF token and its words (the export headings of
:mod:`notes.headings` for the note's own labels, gettext for the editor's buttons and messages).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from notes.document import build_document
from notes.headings import HEADINGS, Language
from notes.model import CognitiveLevel, MeasureStatus, ResponsibleKind
from server.people.vital_signs import VITAL_SIGNS
from web.appkeys import NOTES
from web.context import ctx
from web.guards import require_actor
from web.i18n import current_language
from web.i18n import gettext as _
from web.reads import reading
from web.render import render


def _lang() -> Language:
    return "en" if current_language() == "en" else "nb"


def editor_strings() -> dict[str, str]:
    """The editor's own words (buttons, statuses, messages) in the page's language."""
    return {
        "saved": _("Saved"),
        "saving": _("Saving…"),
        "unsaved": _("Not saved yet"),
        "offline": _("Offline — your text is kept on this device and saved when the connection is back"),
        "error": _("Could not save:"),
        "locked": _("The note is signed. Changes are made as amendments."),
        "conflict_title": _("Someone else changed the same part at the same time"),
        "conflict_help": _("Choose which text to keep. You can edit the note afterwards."),
        "theirs": _("Saved by the other person"),
        "mine": _("Your text"),
        "keep_theirs": _("Keep theirs"),
        "keep_mine": _("Keep mine"),
        "add_risk": _("Add risk analysis"),
        "add_measure": _("Add measure"),
        "add_reading": _("Add reading"),
        "remove": _("Remove"),
        "one_per_line": _("one per line"),
        "what": _("What"),
        "responsible_name": _("Name (department, district)"),
        "value": _("Value"),
        "measurement": _("Measurement"),
        "diastolic": _("Diastolic"),
        "taken_at": _("Taken at"),
        "my_text": _("Your profession's text"),
        "sign": _("Sign the note"),
        "sign_confirm": _("Sign the note? After signing, changes can only be made as amendments."),
        "signed_by": _("Signed by"),
        "amend": _("Add amendment"),
        "amend_part": _("Concerns"),
        "amend_text": _("Amendment"),
        "whole_note": _("The whole note"),
        "share": _("Share with the patient"),
        "unshare": _("Stop sharing with the patient"),
        "shared": _("Shared with the patient and relatives"),
        "export_pdf": _("PDF"),
        "export_text": _("Text for the record"),
        "export_fhir": _("FHIR (JSON)"),
        "print": _("Printable summary"),
        "exports": _("Export and print"),
        "proactive": _("Prevents"),
        "reactive": _("Softens"),
        "no_readings": _("No readings yet."),
        "version": _("Version"),
        "empty_sign": _("An empty note cannot be signed."),
        "changed_before_sign": _("Someone else has changed the note. Read it through and sign again."),
        "kept_drafts": _("Saved. Some of what you wrote needs fixing before it goes into the note; it is kept "
                         "for you — see the list at the top."),
        "problems_title": _("Kept for you, but not in the note until it is fixed"),
        "chars_used": _("{used} of {limit} characters used"),
        "also_here": _("Also in the note now:"),
        "typing_in": _("writing in"),
        "is_in": _("in"),
        "is_typing": _("is writing here…"),
        "has_unsaved": _("has text not saved yet"),
        "not_written": _("Not written yet by the professions present:"),
        "others_writing": _("Someone else is still writing in the note:"),
        "others_writing_kept": _("If you sign now, what they write from now on is kept for them as a draft "
                                 "amendment; nothing is lost."),
        "signed_meanwhile": _("The note was signed while you were writing. What you write now is kept as your "
                              "draft amendment; sign it as an amendment when it is ready."),
        "draft_amendments": _("Your draft amendments"),
        "draft_amendments_help": _("Written after the note was signed. Kept for you as you type; sign each one "
                                   "as an amendment when it is ready."),
        "sign_amendment": _("Sign as amendment"),
        "draft_kept": _("Draft amendment kept"),
        "chars_over": _("The note is over its size limit: what does not fit is kept for you, but not in the "
                        "note. Shorten something."),
    }


def editor_vocabulary() -> dict[str, Any]:
    """The note's kinds, units and enum values for the editor, from the one model (so the script keeps no copy)."""
    return {
        "readingKinds": [
            {"kind": kind.value, "label": _(spec.label), "ucum": spec.ucum, "unit": spec.unit, "paired": spec.paired}
            for kind, spec in VITAL_SIGNS.items()
        ],
        "units": {spec.ucum: spec.unit for spec in VITAL_SIGNS.values()},
        "enums": {
            "cognitiveLevel": [level.value for level in CognitiveLevel],
            "responsible": [kind.value for kind in ResponsibleKind],
            "measureStatus": [status.value for status in MeasureStatus],
        },
    }


async def note_page(request: web.Request) -> web.StreamResponse:
    """The editor of a consultation's note, for a participant. A read: opening a consultation nobody has
    written in yet shows an empty note and stores nothing; the editor's first save creates the note."""
    actor = require_actor(request)
    async with reading(request) as session:
        view = await request.app[NOTES].open_for_booking(session, actor, request.match_info["booking_id"],
                                                         request.query.get("reason", ""))
    return render(request, "note.html", {"view": view,
                                         "config": note_editor_config(request, view.booking_public_id)})


def note_editor_config(request: web.Request, booking_public_id: str) -> dict[str, Any]:
    """What the editor script needs; also used by the call page, where the editor sits beside the video.

    The editor reads and saves the note at the consultation's address, which exists before the note does
    (the first save creates it) and stays the same after, so the copy of unsaved text the browser keeps
    under it is found again whatever happened in between.
    """
    lang = _lang()
    return {
        "noteUrl": f"/api/bookings/{booking_public_id}/note",
        "labels": dict(HEADINGS[lang]),
        "strings": editor_strings(),
        **editor_vocabulary(),
        "lang": lang,
        "csrf": ctx(request).csrf_token,
    }


async def print_page(request: web.Request) -> web.StreamResponse:
    """The note laid out for reading and printing, amendments beside what they amend."""
    actor = require_actor(request)
    lang = _lang()
    async with reading(request) as session:
        view = await request.app[NOTES].load(session, actor, request.match_info["note_id"],
                                             request.query.get("reason", ""))
    document = build_document(view.header, view.state, lang)
    return render(request, "note_print.html", {"view": view, "document": document, "guest": False,
                                               "access": None})
