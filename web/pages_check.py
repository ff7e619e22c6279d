"""The device and connection check: a page anyone can open, and the small JSON API of its round trip.

Signalling is three plain HTTP calls rather than a socket: the check needs one offer and one answer
(non-trickle: aiortc puts every server candidate in the answer), and everything after that (pings,
the frame report, "bye") travels on the check's own data channel, through the very path the media
take. HTTP also gives the page our usual CSRF check, problem+json refusals and an OpenAPI entry for
free; a socket would add a second transport to bound and clean up for no gain. The page asks for the
ICE servers when the round trip starts, so a TURN credential is handed out only to a check that holds
a place, and is valid only for minutes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rooms.appkeys import CONNECTION_CHECKS
from rooms.media.connection_check import MAX_OFFER_CHARS, InvalidCheckOffer
from server.platform.errors import ValidationFailed
from web.appkeys import BROWSER_ICE_SERVERS
from web.client_address import client_address
from web.forms import get_str, json_object, reject_unknown
from web.i18n import gettext as _
from web.openapi import ApiRoute
from web.render import render

API_BASE = "/api/connection-checks"
_MAX_CHECK_ID = 64


def _check_id(request: web.Request) -> str:
    check_id = request.match_info["check_id"]
    if len(check_id) > _MAX_CHECK_ID:  # not one of ours; refused before any lookup
        raise ValidationFailed("the check id is too long", {"check_id": "too_long"})
    return check_id


def _check_strings() -> dict[str, str]:
    """Every word the check page's JavaScript shows, in the page's language."""
    return {
        "camera_ok": _("We can see you. The camera works."),
        "camera_denied": _(
            "The browser was not allowed to use the camera. Click the camera or lock symbol next to the "
            "address, choose Allow, and then press Try again."),
        "camera_missing": _(
            "No camera was found. Connect a camera, or use a phone or tablet with a camera. You can still "
            "take part with sound only."),
        "camera_busy": _(
            "The camera is in use by another program (for example Teams or Zoom). Close it, then press Try "
            "again."),
        "camera_failed": _("The camera could not be started. Restart the browser and try again."),
        "mic_ok": _("We hear you. The bar moves when you speak."),
        "mic_quiet": _("We hear nothing yet. Say something, or check that the microphone is not muted."),
        "mic_denied": _(
            "The browser was not allowed to use the microphone. Allow it next to the address and press Try "
            "again."),
        "mic_missing": _("No microphone was found. Connect a headset or use a device with a microphone."),
        "speaker_prompt": _("Did you hear the sound?"),
        "speaker_ok": _("Good. Sound from the consultation will be heard the same way."),
        "speaker_not_heard": _(
            "Turn up the volume, check that the right speaker or headset is chosen in the computer's sound "
            "settings, and play the sound again."),
        "network_running": _("Testing the connection to our server…"),
        "network_ok": _("Everything looks good. The video consultation should work from here."),
        "network_no_connection": _(
            "Contact IT: the network does not let video through to our server. Tell them the device check "
            "could not connect."),
        "network_no_video_back": _(
            "The connection works, but video did not come back. Contact IT: the network may block video."),
        "network_no_camera": _(
            "The connection works. Video was not tested because no camera is in use."),
        "network_slow": _(
            "The connection works but is slow or loses data. The picture may freeze. Move closer to the "
            "wireless router or use a cable if you can."),
        "network_busy": _("Many checks are running right now. Wait a minute and press Try again."),
        "network_rate_limited": _("You have run the check many times. Wait a few minutes and try again."),
        "network_error": _("The check could not be completed. Try again; if it keeps failing, contact IT."),
        "network_unsupported": _(
            "This browser cannot make video calls. Use a recent Chrome, Edge, Firefox or Safari."),
        "via_host": _("Direct connection"),
        "via_srflx": _("Through the network's firewall (NAT)"),
        "via_prflx": _("Through the network's firewall (NAT)"),
        "via_relay": _("Through our relay server (TURN)"),
        "via_unknown": _("Unknown"),
        "yes": _("Yes"),
        "no": _("No"),
        "ms": _("{n} ms"),
        "percent": _("{n} %"),
        "not_measured": _("Not measured"),
    }


async def check_page(request: web.Request) -> web.Response:
    """The device and connection check; needs no login and shows nothing about anyone."""
    back = request.query.get("from", "")
    return render(request, "check.html", {
        "config": {"api": API_BASE, "seconds": 6},
        "strings": _check_strings(),
        "back_to_join": back == "join",
    })


async def start_check(request: web.Request) -> web.Response:
    """Reserve a place for a round trip; answers with the ICE servers to use and the time limit."""
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, set(), errors)
    if errors:
        raise ValidationFailed("this request takes an empty object", errors)
    ticket = request.app[CONNECTION_CHECKS].start(client_address(request))
    answer: dict[str, Any] = {
        "id": ticket.check_id,
        "ice_servers": request.app[BROWSER_ICE_SERVERS](f"check:{ticket.check_id}"),
        "time_limit_seconds": ticket.time_limit,
    }
    return web.json_response(answer, status=201, headers={"Location": f"{API_BASE}/{ticket.check_id}"})


async def offer_check(request: web.Request) -> web.Response:
    """Apply the browser's offer (with its gathered candidates) and return the server's answer."""
    check_id = _check_id(request)
    body = await json_object(request)
    errors: dict[str, str] = {}
    reject_unknown(body, {"type", "sdp"}, errors)
    kind = get_str(body, "type", max_len=20, errors=errors)
    if kind and kind != "offer":
        errors["type"] = "invalid_choice"
    sdp = get_str(body, "sdp", max_len=MAX_OFFER_CHARS, errors=errors)
    if errors:
        raise InvalidCheckOffer("the offer could not be read", errors)
    answer = await request.app[CONNECTION_CHECKS].answer(check_id, sdp)
    return web.json_response({"type": "answer", "sdp": answer})


async def stop_check(request: web.Request) -> web.Response:
    """End a check now (the page is left or done); stopping one that has ended already is fine."""
    check_id = _check_id(request)
    await request.app[CONNECTION_CHECKS].stop(check_id)
    return web.json_response({"id": check_id, "stopped": True})


def setup_routes(router: web.UrlDispatcher) -> None:
    """The check page; its API routes are in ``web.routes.API_ROUTES`` (so the OpenAPI document lists them)."""
    router.add_get("/check", check_page)


_CHECK_ID_PARAM = {"name": "check_id", "in": "path", "required": True,
                   "schema": {"type": "string", "minLength": 1, "maxLength": _MAX_CHECK_ID}}

API_ROUTES: list[ApiRoute] = [
    ApiRoute("POST", API_BASE, start_check,
             "Start a device and connection check (no login; limited per client and in number)",
             {"$ref": "#/components/schemas/ConnectionCheck"}, status=201, request_schema="ConnectionCheckStart",
             tag="connection-check", extra_responses=(429,)),
    ApiRoute("POST", f"{API_BASE}/{{check_id}}/offer", offer_check,
             "Send the browser's offer (candidates gathered); the server echoes its media back",
             {"$ref": "#/components/schemas/ConnectionCheckAnswer"}, parameters=[_CHECK_ID_PARAM],
             request_schema="ConnectionCheckOffer", tag="connection-check", extra_responses=(409,)),
    ApiRoute("DELETE", f"{API_BASE}/{{check_id}}", stop_check, "End a check now (idempotent)",
             {"$ref": "#/components/schemas/ConnectionCheckStopped"}, parameters=[_CHECK_ID_PARAM],
             tag="connection-check"),
]
