"""The kinds of equipment a health room can have or a trust can book, by their stored code.

The web layer words each code in the reader's language (``web.labels.equipment_label``); a trust that
starts empty gets these kinds the first time one is used.
"""

from __future__ import annotations

EQUIPMENT_KINDS: tuple[str, ...] = (
    "room_camera",
    "examination_camera",
    "blood_pressure_monitor",
    "pulse_oximeter",
    "thermometer",
    "scale",
    "stethoscope",
    "otoscope",
    "ecg",
    "speakerphone",
)
