"""The note's field problems in the reader's words: one message per code of :mod:`notes.validation` and
:mod:`notes.json_fields`, in one place.

The domain words each problem in English for developers and logs; a person sees these instead, next to
the field and in the list at the top of the editor.
"""

from __future__ import annotations

from babel.numbers import format_decimal

from notes.codec import Json
from notes.errors import FieldError, SignBlocker
from web.i18n import babel_locale
from web.i18n import gettext as _
from web.messages import N_

_FIELD_MESSAGES = {
    "required": N_("Please fill this in."),
    "too_long": N_("Too long: at most {limit} characters. Shorten the text; nothing you wrote is lost."),
    "too_many": N_("Too many entries: at most {limit}."),
    "note_too_large": N_("The note is full: at most {limit} characters in all. This text is kept for you but "
                         "not yet in the note; shorten it or other parts."),
    "bad_character": N_("Contains a character that cannot be stored (for example an invisible control "
                        "character). Remove it and the text is saved."),
    "before_start": N_("The evaluation date is before the start date."),
    "bad_date": N_("Not a valid date. Write it as dd.mm.yyyy."),
    "bad_time": N_("Not a valid time."),
    "bad_number": N_("Not a number."),
    "out_of_range": N_("The number is not a sensible size."),
    "wrong_unit": N_("The unit does not fit this measurement."),
    "not_allowed": N_("Only blood pressure has a diastolic value."),
    "naive_time": N_("The time is missing its time zone."),
    "bad_choice": N_("Choose one of the options."),
    "bad_id": N_("The editor sent an entry without its identity. Reload the page; your text is kept."),
    "duplicate_id": N_("Two entries have the same identity. Reload the page; your text is kept."),
    "bad_profession": N_("Unknown profession."),
    "duplicate_profession": N_("This profession's text appears twice."),
    "type": N_("The editor sent this in a form the server does not understand. Reload the page; your text "
               "is kept."),
    "unknown_key": N_("The editor sent a field the note does not have. Reload the page; your text is kept."),
    "too_large": N_("The note is too large to be sent."),
    "not_json": N_("The note could not be read."),
    "after_signing": N_("Written after the note was signed. It is kept for you as a draft amendment: read it "
                        "over and sign it as an amendment."),
}
_UNKNOWN = N_("This field could not be saved as it is.")


def field_message(error: FieldError) -> str:
    """The translated message of one field problem, with its limit written as the reader writes numbers."""
    text = _(_FIELD_MESSAGES.get(error.code, _UNKNOWN))
    if "{limit}" in text:
        limit = "" if error.limit is None else format_decimal(error.limit, locale=babel_locale())
        text = text.replace("{limit}", limit)
    return text


def field_error_json(error: FieldError) -> dict[str, Json]:
    """One problem as the API answers it: ``field`` (a path), ``code`` and the reader's ``message``."""
    return {"field": error.path, "code": error.code, "message": field_message(error)}


def blocker_json(blocker: SignBlocker) -> dict[str, Json]:
    """One thing that stops signing: whose draft of which part, the field and the reader's message."""
    return {"part": blocker.part, **field_error_json(blocker.error),
            "author": {"id": blocker.author_id, "name": blocker.author_name}}
