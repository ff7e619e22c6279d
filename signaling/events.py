"""From what happens in a room to the frames each socket gets.

``event_to_message`` maps a room event to its wire message, ``live_event_messages`` does the same for
the live media layer's events, and ``join_reply`` builds the joiner's own messages after a join or
resume (the resume token included).
"""

from __future__ import annotations

import dataclasses

from rooms.events import (
    Admitted,
    ChatPosted,
    Denied,
    MuteChanged,
    ReadingPosted,
    RoomEnded,
    RoomEvent,
    RosterChanged,
    SeatReleased,
    TrackPublished,
    Waiting,
    WaitingListChanged,
    WaitingRoomMessage,
    WaitingRoomStatus,
    audience,
)
from rooms.live import BitrateCap, LiveEvent, PeerReset, ServerOffer
from rooms.recording_consent import RecordingStatus
from rooms.seats import JoinResult
from signaling.outbound import (
    AdmittedOut,
    BitrateOut,
    ChatOut,
    DeniedOut,
    EndedOut,
    IceServer,
    MediaMapOut,
    MediaRestartOut,
    MediaTrack,
    MuteOut,
    OfferOut,
    OutboundMessage,
    ReadingOut,
    RecordingStatusOut,
    ResumedOut,
    RosterOut,
    TrackOut,
    WaitingListOut,
    WaitingMessageOut,
    WaitingOut,
    WaitingStatusOut,
)


def event_to_message(event: RoomEvent, *, ice_servers: tuple[IceServer, ...] = ()) -> OutboundMessage | None:
    """The wire message for a room event, or None for events meant for the server alone."""
    match event:
        case Waiting(participant_id=pid):
            return WaitingOut(pid)
        case Admitted(participant_id=pid):
            return AdmittedOut(pid, ice_servers=ice_servers)
        case Denied():
            return DeniedOut()
        case RosterChanged(roster=roster):
            return RosterOut(roster.entries, roster.recorder)
        case WaitingListChanged(entries=entries):
            return WaitingListOut(entries)
        case WaitingRoomStatus(staff_roles=roles):
            return WaitingStatusOut(roles)
        case WaitingRoomMessage(participant_id=pid, display_name=name, text=text, sent_at=sent_at):
            return WaitingMessageOut(pid, name, text, sent_at)
        case TrackPublished(participant_id=pid, track=track):
            return TrackOut(pid, track.track_id, track.kind, track.label, track.muted)
        case MuteChanged(participant_id=pid, kind=kind, muted=muted):
            return MuteOut(pid, kind, muted)
        case ChatPosted(participant_id=pid, display_name=name, text=text, sent_at=sent_at):
            return ChatOut(pid, name, text, sent_at)
        case ReadingPosted(participant_id=pid, display_name=name, reading=r, posted_at=posted_at):
            return ReadingOut(pid, name, r.name, r.value, r.unit, r.taken_at, posted_at)
        case SeatReleased(reason=reason) | RoomEnded(reason=reason):
            return EndedOut(reason)
    return None


def join_reply(
    result: JoinResult, *, resumed: bool = False, ice_servers: tuple[IceServer, ...] = ()
) -> list[OutboundMessage]:
    """The joiner's own messages after ``Room.join`` or ``Room.resume``, the resume token included.

    Deliver ``result.outgoing`` to everyone else as usual, skipping the joiner: this covers them.
    """
    me = result.participant.participant_id
    messages: list[OutboundMessage] = []
    if resumed:
        messages.append(ResumedOut(me, result.resume_token, result.participant.status))
    for event in audience(result.outgoing, me):
        if isinstance(event, Waiting):
            messages.append(WaitingOut(me, None if resumed else result.resume_token))
        elif isinstance(event, Admitted):
            messages.append(AdmittedOut(me, None if resumed else result.resume_token, ice_servers))
        elif (message := event_to_message(event, ice_servers=ice_servers)) is not None:
            messages.append(message)
    return messages


def live_event_messages(event: LiveEvent, *, ice_servers: tuple[IceServer, ...] = ()) -> list[OutboundMessage]:
    """The frames for one live event, in order."""
    match event:
        case ServerOffer(sdp=offer, tracks=tracks):
            return [
                MediaMapOut(tuple(MediaTrack(t.mid, t.publisher_id, t.label, t.kind, t.live) for t in tracks)),
                OfferOut(offer),
            ]
        case PeerReset():
            return [MediaRestartOut()]
        case BitrateCap(max_video_kbps=kbps):
            return [BitrateOut(kbps)]
        case RecordingStatus():
            return [RecordingStatusOut(**dataclasses.asdict(event))]
    message = event_to_message(event, ice_servers=ice_servers)
    return [] if message is None else [message]
