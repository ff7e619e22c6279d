"""The time zone people see: times are stored in UTC and shown in Norwegian local time.

One home for it, so that pages, exports, invitations and slot search never disagree about the zone.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

OSLO_TZ_NAME = "Europe/Oslo"
OSLO = ZoneInfo(OSLO_TZ_NAME)
