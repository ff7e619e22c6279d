"""What a published track shows: the label a signaling layer attaches to each sending m-line."""

from typing import Literal, get_args

MediaLabel = Literal["audio", "room_camera", "exam_camera", "screen"]
MediaKind = Literal["audio", "video"]

MEDIA_LABELS: tuple[MediaLabel, ...] = get_args(MediaLabel)
_VIDEO_LABELS: tuple[MediaLabel, ...] = ("room_camera", "exam_camera", "screen")


def kind_of(label: MediaLabel) -> MediaKind:
    """The RTP media kind that carries a track with this label."""
    return "audio" if label == "audio" else "video"


def default_label(kind: str, labels_in_use: set[MediaLabel]) -> MediaLabel:
    """Label for an m-line the client did not label: audio, else the first free video label."""
    if kind == "audio":
        return "audio"
    for label in _VIDEO_LABELS:
        if label not in labels_in_use:
            return label
    return "room_camera"
