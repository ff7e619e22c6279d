"""A consultation's recordings for its staff: the list, and playback after saying why.

Listing is audited by the recording store; playing is audited again for every part the browser fetches
(``/api/recordings/{id}/parts/{n}``), with the reason given here, and shows in the patient's access log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from recordings_policy.rules import Purpose
from server.people.patients import CLINICAL_ROLES
from server.platform.errors import NotFound
from web.api_recordings import PLAYBACK_PATH
from web.appkeys import RECORDING_ACCESS
from web.guards import require_actor
from web.i18n import gettext as _
from web.render import render
from web.scheduling_labels import page_context

MAX_REASON = 500


def purpose_names() -> dict[Purpose, str]:
    """Why a recording is made, as it reads after "for" in a sentence."""
    return {
        Purpose.TEACHING: _("teaching"),
        Purpose.DOCUMENTATION: _("documentation in the patient record"),
        Purpose.PATIENT_REQUEST: _("the patient's own request"),
    }


async def recordings_page(request: web.Request) -> web.StreamResponse:
    """The recordings of one consultation; ``?play=<id>&reason=...`` plays one."""
    actor = require_actor(request, *CLINICAL_ROLES)
    public_id = request.match_info["public_id"]
    access = request.app.get(RECORDING_ACCESS)
    recordings = list(await access.for_booking(public_id, actor)) if access is not None else []
    play = request.query.get("play", "")
    reason = request.query.get("reason", "").strip()
    errors: dict[str, str] = {}
    playing: dict[str, Any] | None = None
    if play:
        chosen = next((r for r in recordings if r.public_id == play), None)
        if chosen is None:
            raise NotFound("no such recording")
        if not reason:
            errors["reason"] = _("Say why you play the recording: it is logged and shown to the patient.")
        elif len(reason) > MAX_REASON:
            errors["reason"] = _("At most {max} characters.").format(max=MAX_REASON)
        else:
            query = urlencode({"reason": reason})
            playing = {"recording": chosen, "sources": [
                f"{PLAYBACK_PATH.format(public_id=chosen.public_id, part=n)}?{query}" for n in range(chosen.parts)]}
    return render(request, "recordings.html", page_context({
        "booking_id": public_id, "recordings": recordings, "recording_enabled": access is not None,
        "purpose_labels": {purpose.value: name for purpose, name in purpose_names().items()},
        "play": play, "reason": reason, "errors": errors, "playing": playing, "reason_max": MAX_REASON,
    }), status=422 if errors else 200)
