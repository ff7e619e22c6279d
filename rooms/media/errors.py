"""Errors raised by the forwarding media core; none of them carries HTTP or WebSocket details."""


class MediaError(Exception):
    """Base class of every error raised by :mod:`rooms.media`."""


class AiortcHookError(MediaError):
    """The installed aiortc no longer has the internals the frame hook relies on.

    Raised on purpose, loudly, so an aiortc upgrade cannot silently turn the forwarding
    server back into a transcoder (or into a server that forwards nothing).
    """


class UnknownParticipantError(MediaError):
    """The participant id is not (or no longer) part of this media router."""


class DuplicateParticipantError(MediaError):
    """A participant id was added twice to the same media router."""


class NegotiationCollisionError(MediaError):
    """An offer arrived while the server's own offer to that participant is unanswered.

    The server is the impolite peer of "perfect negotiation": the client rolls back its
    offer, answers the server's, and offers again afterwards.
    """


class UnsupportedCodecError(MediaError):
    """The remote description does not allow the pinned codec (VP8 for video, Opus for audio)."""


class RouterClosedError(MediaError):
    """The media router was closed; it accepts no new participants or negotiations."""
