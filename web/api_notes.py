"""The JSON API of consultation notes: thin handlers that parse, call the notes service and answer.

Handlers that change a note run in a unit of work that takes SQLite's write lock up front; reads (the note,
its versions, exports) change nothing but the audit log and run in a read-only one (:func:`web.reads.reading`).
A consultation's note is read and saved at ``/api/bookings/{id}/note`` too, before it exists: reading it
then creates nothing, the first save does.

Errors of the notes domain (:class:`notes.errors.NotesError`) are domain errors like any other, answered
as problem+json by the error middleware (:mod:`web.errors`); a save whose parts collide answers 409 with
both texts of each part. A save with parts that break a rule is not refused: it answers 200 with the parts
kept as the author's drafts and their problems in the reader's words; signing while drafts are outstanding
answers 409 with every blocker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from notes.after_signing import AFTER_SIGNING, amendment_target
from notes.codec import Json, note_to_dict, part_to_dict, utc_iso
from notes.errors import SignBlocked
from notes.headings import Language
from notes.live import ChangeKind, NoteChanged
from notes.merge import Conflict
from notes.model import Person
from notes.note_views import ExportFormat, NoteView, SaveResult, StoredDraft, VersionInfo, VersionSummary
from notes.signing import Amendment, NoteState
from notes.submission import Submission, read_submission
from notes.validation import NOTE_TEXT_LIMIT
from server.platform.appkeys import DATABASE
from server.platform.errors import ValidationFailed
from web.appkeys import NOTE_EXPORTS, NOTE_HUB, NOTES
from web.errors import problem_response
from web.fhir_outcome import FHIR_JSON
from web.forms import get_bool, get_int, get_str, json_object, parse_id, query_int, reject_unknown
from web.guards import require_actor
from web.i18n import current_language
from web.i18n import gettext as _
from web.note_messages import blocker_json, field_error_json
from web.reads import reading


def _reason(request: web.Request) -> str:
    return request.query.get("reason", "")[:300]


def _lang(request: web.Request) -> Language:
    return "en" if request.query.get("lang") == "en" else "nb"


def person_json(p: Any) -> dict[str, Json]:
    """A person (author, signer) as JSON."""
    return {"id": p.id, "name": p.name, "profession": p.profession}


def _amendment_json(a: Amendment) -> dict[str, Json]:
    return {"number": a.number, "part": a.part, "text": a.text, "author": person_json(a.author),
            "signed_at": utc_iso(a.signed_at), "chain_hash": a.chain_hash}


def draft_json(d: StoredDraft, state: NoteState, *, with_content: bool = True) -> dict[str, Json]:
    """One of the reader's drafts: the part, its problems in the reader's words and (by default) the text.

    A draft written after the note was signed (``after_signing``) is plain text, and ``amends`` names
    what an amendment of it concerns (the part, or its section when the signed note lacks the item).
    """
    out: dict[str, Json] = {"part": d.part, "errors": [field_error_json(e) for e in d.errors]}
    if any(e.code == AFTER_SIGNING for e in d.errors):
        out.update({"after_signing": True, "amends": amendment_target(state.content, d.part)})
    if with_content:
        out.update({"content": d.content, "updated_at": utc_iso(d.updated_at)})
    return out


def _publish(request: web.Request, view: NoteView, kind: str, parts: tuple[str, ...] = ()) -> None:
    """Tell the note's open editors (after the unit of work has committed, so they read the new state); the
    live channel is the consultation's, so editors who opened it before the first save hear of that too."""
    actor = require_actor(request)
    request.app[NOTE_HUB].publish(view.booking_public_id, NoteChanged(kind, view.version, parts,
                                                              Person(actor.id, actor.name, view.profession)))


def note_json(view: NoteView) -> dict[str, Json]:
    """The note as the editor reads it: content in the stored JSON form, state, and what the reader may do.

    A note nobody has saved yet has ``id`` null and version 0; it is saved (and so created) at the
    consultation's address, and has no versions or exports to link to.
    """
    sig = view.state.signature
    permissions: list[Json] = [a.value for a in sorted(view.permissions)]
    return {
        "id": view.public_id,
        "booking": view.booking_public_id,
        "patient": {"id": view.patient_public_id, "name": view.patient_name},
        "version": view.version,
        "status": view.state.status.value,
        "content": note_to_dict(view.state.content),
        "signature": None if sig is None else {
            "signer": person_json(sig.signer), "signed_at": utc_iso(sig.signed_at), "version": sig.version,
            "content_hash": sig.content_hash},
        "amendments": [_amendment_json(a) for a in view.state.amendments],
        "shared": view.shared,
        "verified": view.verified,
        "permissions": permissions,
        "profession": view.profession,
        "drafts": [draft_json(d, view.state) for d in view.drafts],
        "limits": {"note_chars": NOTE_TEXT_LIMIT},
        "links": _links(view),
    }


def _links(view: NoteView) -> dict[str, Json]:
    if view.public_id is None:
        return {"self": f"/api/bookings/{view.booking_public_id}/note", "versions": None, "text": None,
                "pdf": None, "fhir": None, "print": None}
    return {
        "self": f"/api/notes/{view.public_id}",
        "versions": f"/api/notes/{view.public_id}/versions",
        "text": f"/api/notes/{view.public_id}/export.txt",
        "pdf": f"/api/notes/{view.public_id}/export.pdf",
        "fhir": f"/api/notes/{view.public_id}/fhir",
        "print": f"/notes/{view.public_id}/print",
    }


def conflict_json(c: Conflict) -> dict[str, Json]:
    """One conflicting part: base, theirs and mine in the note's JSON form and as plain text."""
    base, theirs, mine = c.texts()
    return {"part": c.part, "base": part_to_dict(c.base), "theirs": part_to_dict(c.theirs),
            "mine": part_to_dict(c.mine), "base_text": base, "theirs_text": theirs, "mine_text": mine}


def _version_summary_json(note_id: str, v: VersionSummary) -> dict[str, Json]:
    return {"version": v.version, "author": person_json(v.author), "created_at": utc_iso(v.created_at),
            "size": v.size, "links": {"self": f"/api/notes/{note_id}/versions/{v.version}"}}


def _version_json(v: VersionInfo) -> dict[str, Json]:
    return {"version": v.version, "author": person_json(v.author), "created_at": utc_iso(v.created_at),
            "content": note_to_dict(v.content)}


async def booking_note(request: web.Request) -> web.Response:
    """GET /api/bookings/{public_id}/note: the consultation's note (an empty one before the first save).

    A read: it writes the read's audit row and nothing else, whether or not the note exists yet.
    """
    actor = require_actor(request)
    async with reading(request) as session:
        view = await request.app[NOTES].open_for_booking(session, actor, request.match_info["public_id"],
                                                         _reason(request))
    return web.json_response(note_json(view))


async def note_get(request: web.Request) -> web.Response:
    """GET /api/notes/{note_id}: the latest state (audited)."""
    actor = require_actor(request)
    async with reading(request) as session:
        view = await request.app[NOTES].load(session, actor, request.match_info["note_id"], _reason(request))
    return web.json_response(note_json(view))


@dataclass(frozen=True)
class _SaveRequest:
    based_on: int
    content: Submission
    reason: str


async def _save_request(request: web.Request) -> _SaveRequest:
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"based_on", "content", "reason"}, errors)
    based_on = get_int(body, "based_on", errors=errors)
    reason = get_str(body, "reason", required=False, max_len=300, errors=errors)
    if "content" not in body:
        errors["content"] = "required"
    if errors or based_on is None:
        raise ValidationFailed("the save could not be read", errors)
    return _SaveRequest(based_on, read_submission(body["content"]), reason or _reason(request))


def _save_answer(request: web.Request, result: SaveResult) -> web.Response:
    if result.new_version:
        _publish(request, result.view, ChangeKind.SAVED, result.applied)
    answer: dict[str, Json] = {"version": result.view.version, "saved": result.new_version,
                               "drafts": [draft_json(d, result.view.state, with_content=False)
                                          for d in result.drafts],
                               "note": note_json(result.view)}
    if result.after_signing:
        answer["after_signing"] = list(result.after_signing)
    if result.conflicts:
        answer["conflicts"] = [conflict_json(c) for c in result.conflicts]
        answer.update({"type": "https://samkonsult.no/problems/notes.conflict", "code": "notes.conflict",
                       "status": 409, "title": _("Someone else changed the same part. Choose which text to keep.")})
        return web.json_response(answer, status=409)
    return web.json_response(answer)


def _save_language() -> Language:
    return "en" if current_language() == "en" else "nb"


async def note_put(request: web.Request) -> web.Response:
    """PUT /api/notes/{note_id}: save ``content`` based on version ``based_on``; 409 lists conflicts."""
    actor = require_actor(request)
    save = await _save_request(request)
    async with request.app[DATABASE].session(write_lock=True) as session:
        result = await request.app[NOTES].save(session, actor, request.match_info["note_id"],
                                               based_on=save.based_on, content=save.content, reason=save.reason,
                                               lang=_save_language())
    return _save_answer(request, result)


async def booking_note_put(request: web.Request) -> web.Response:
    """PUT /api/bookings/{public_id}/note: save the consultation's note, creating it on the first save.

    ``based_on`` 0 is the empty note shown before anybody saved; otherwise as ``PUT /api/notes/{note_id}``.
    """
    actor = require_actor(request)
    save = await _save_request(request)
    async with request.app[DATABASE].session(write_lock=True) as session:
        result = await request.app[NOTES].save_for_booking(
            session, actor, request.match_info["public_id"], based_on=save.based_on, content=save.content,
            reason=save.reason, lang=_save_language())
    return _save_answer(request, result)


async def note_sign(request: web.Request) -> web.Response:
    """POST /api/notes/{note_id}/sign: sign the latest version, locking the note."""
    actor = require_actor(request)
    try:
        async with request.app[DATABASE].session(write_lock=True) as session:
            view = await request.app[NOTES].sign(session, actor, request.match_info["note_id"], _reason(request))
    except SignBlocked as exc:
        return problem_response(409, exc.code, exc.message, title=_("The note cannot be signed yet. Fix these first:"),
                                extra={"blockers": [blocker_json(b) for b in exc.blockers]})
    _publish(request, view, ChangeKind.SIGNED)
    return web.json_response(note_json(view))


async def note_amend(request: web.Request) -> web.Response:
    """POST /api/notes/{note_id}/amendments: a signed amendment to a signed note."""
    actor = require_actor(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"part", "text", "reason", "draft"}, errors)
    part = get_str(body, "part", max_len=200, errors=errors)
    text = get_str(body, "text", max_len=20_000, errors=errors)
    reason = get_str(body, "reason", required=False, max_len=300, errors=errors)
    draft = get_str(body, "draft", required=False, max_len=200, errors=errors)
    if errors:
        raise ValidationFailed("the amendment could not be read", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        view = await request.app[NOTES].amend(session, actor, request.match_info["note_id"], part=part, text=text,
                                              reason=reason or _reason(request), draft=draft or None)
    _publish(request, view, ChangeKind.AMENDED)
    return web.json_response(note_json(view), status=201)


_DRAFT_TEXT_MAX = 200_000
"""What a draft amendment may hold while being written (the amendment limit applies when it is signed)."""


async def note_amendment_draft(request: web.Request) -> web.Response:
    """PUT /api/notes/{note_id}/amendment-drafts: keep (or with empty text drop) the reader's draft amendment
    of ``part`` on a signed note, as they type it."""
    actor = require_actor(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"part", "text", "reason"}, errors)
    part = get_str(body, "part", max_len=200, errors=errors)
    text = get_str(body, "text", required=False, max_len=_DRAFT_TEXT_MAX, errors=errors)
    reason = get_str(body, "reason", required=False, max_len=300, errors=errors)
    if errors:
        raise ValidationFailed("the draft amendment could not be read", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        view = await request.app[NOTES].keep_amendment_draft(session, actor, request.match_info["note_id"],
                                                             part=part, text=text or "",
                                                             reason=reason or _reason(request))
    return web.json_response(note_json(view))


async def note_share(request: web.Request) -> web.Response:
    """POST /api/notes/{note_id}/share: share the signed summary with the patient and relatives, or stop."""
    actor = require_actor(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"shared", "reason"}, errors)
    shared = get_bool(body, "shared", errors=errors)
    reason = get_str(body, "reason", required=False, max_len=300, errors=errors)
    if errors:
        raise ValidationFailed("the request could not be read", errors)
    async with request.app[DATABASE].session(write_lock=True) as session:
        view = await request.app[NOTES].set_shared(session, actor, request.match_info["note_id"], shared,
                                                   reason or _reason(request))
    _publish(request, view, ChangeKind.SHARED)
    return web.json_response(note_json(view))


_VERSIONS_PAGE = 100
_VERSIONS_PAGE_MAX = 500


async def note_versions(request: web.Request) -> web.Response:
    """GET /api/notes/{note_id}/versions: the saved versions, oldest first, as metadata; paginated with
    ``offset`` and ``limit`` (a ``Link: rel="next"`` header while more remain), content one link away."""
    actor = require_actor(request)
    offset = query_int(request, "offset", required=False, lo=0) or 0
    limit = query_int(request, "limit", required=False, hi=_VERSIONS_PAGE_MAX) or _VERSIONS_PAGE
    note_id = request.match_info["note_id"]
    async with reading(request) as session:
        page = await request.app[NOTES].versions(session, actor, note_id, _reason(request), offset=offset,
                                                 limit=limit)
    headers = {"X-Total-Count": str(page.total)}
    if offset + len(page.versions) < page.total:
        headers["Link"] = f'</api/notes/{note_id}/versions?offset={offset + limit}&limit={limit}>; rel="next"'
    return web.json_response([_version_summary_json(note_id, v) for v in page.versions], headers=headers)


async def note_version(request: web.Request) -> web.Response:
    """GET /api/notes/{note_id}/versions/{version}: one saved version with its content."""
    actor = require_actor(request)
    number = parse_id(request.match_info["version"])
    if number is None:
        raise ValidationFailed("the version is a whole number", {"version": "invalid_choice"})
    async with reading(request) as session:
        version = await request.app[NOTES].version(session, actor, request.match_info["note_id"], number,
                                                   _reason(request))
    return web.json_response(_version_json(version))


async def _export(request: web.Request, fmt: ExportFormat, content_type: str, extension: str) -> web.Response:
    actor = require_actor(request)
    async with reading(request) as session:
        job = await request.app[NOTES].prepare_export(session, actor, request.match_info["note_id"], fmt,
                                                      _lang(request), _reason(request))
    # Rendered in a worker process, after the unit of work: a large PDF stalls neither calls nor SQLite.
    result = await request.app[NOTE_EXPORTS].render(job)
    disposition = "inline" if fmt is not ExportFormat.PDF else "attachment"
    return web.Response(body=result.body, content_type=content_type, charset=None if fmt is ExportFormat.PDF
                        else "utf-8",
                        headers={"Content-Disposition": f'{disposition}; filename="{result.filename}.{extension}"'})


async def export_text(request: web.Request) -> web.Response:
    """GET /api/notes/{note_id}/export.txt: plain text fit to paste into a record system."""
    return await _export(request, ExportFormat.TEXT, "text/plain", "txt")


async def export_pdf(request: web.Request) -> web.Response:
    """GET /api/notes/{note_id}/export.pdf: a printable PDF for the hospital and municipal records."""
    return await _export(request, ExportFormat.PDF, "application/pdf", "pdf")


async def export_fhir(request: web.Request) -> web.Response:
    """GET /api/notes/{note_id}/fhir: a FHIR R5 document Bundle with a Composition."""
    return await _export(request, ExportFormat.FHIR, FHIR_JSON, "json")
