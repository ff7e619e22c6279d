"""Who accessed a patient's information, in plain words: the patient's own page and the staff print.

The patient reaches it through their own guest session (a join code issued for the patient role;
relatives and interpreters get "not found"), on the shared summary and on a page of its own. Staff
with access to the patient print the same list for a patient who asks; that is audited as the
patient's access request. The words come from the catalogue (``web/labels.py``), never a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from babel.dates import format_date

from rooms.access import resolve_participant
from rooms.appkeys import GUEST_ACCESS, LIVE_REGISTRY
from rooms.registry import BookingRoom, actor_for
from rooms.roster import Identity, ParticipantRole
from server.people.access_report import (
    DEFAULT_PERIOD_MONTHS,
    PERIOD_MONTHS,
    AccessGroup,
    AccessReport,
    AccessReportService,
    Period,
)
from server.people.appkeys import ACCESS_REPORTS
from server.people.patients import CLINICAL_ROLES
from server.platform.appkeys import DATABASE
from server.platform.audit_reasons import AuditReason
from server.platform.errors import NotFound, ValidationFailed
from server.platform.local_time import OSLO
from web.context import caller
from web.guards import require_actor
from web.i18n import babel_locale, ngettext
from web.i18n import gettext as _
from web.labels import action_label, object_label, profession_label, reason_label, role_label, stated_reason_label
from web.render import local_time, render

SUMMARY_LINES = 5
"""Lines shown beside the summary; the rest are on the patient's own page."""


@dataclass(frozen=True)
class ReportLine:
    """One line of the report in the reader's words."""

    when: str
    who: str
    role: str
    organisation: str
    what: str
    why: str


@dataclass(frozen=True)
class ReportDayView:
    heading: str
    lines: tuple[ReportLine, ...]


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _when(group: AccessGroup) -> str:
    start, end = local_time(group.first_at), local_time(group.last_at)
    if start == end:
        return _("at {time}").format(time=start)
    return _("at {start}–{end}").format(start=start, end=end)


def _what(group: AccessGroup) -> str:
    actions = []
    for code, count in group.actions:
        label = action_label(code)
        actions.append(label if count == 1 else ngettext("{action} ({n} time)", "{action} ({n} times)", count)
                       .format(action=label, n=count))
    return _("{object}: {actions}").format(object=_first_upper(object_label(group.object_type)),
                                           actions=", ".join(actions))


def _why(group: AccessGroup) -> str:
    if group.reason is not None:
        return _first_upper(reason_label(group.reason))
    return stated_reason_label(group.stated_reason)


def line_of(group: AccessGroup) -> ReportLine:
    """A line of the report as the reader sees it (no internal id ever leaves the service)."""
    who = group.who
    return ReportLine(when=_when(group), who=who.name, role=profession_label(who.profession) or role_label(who.role),
                      organisation=who.organisation, what=_what(group), why=_why(group))


def report_view(report: AccessReport, *, limit: int | None = None) -> dict[str, Any]:
    """What the templates show of a report: days with their lines, newest first, and the period."""
    days: list[ReportDayView] = []
    shown = 0
    for day in report.days:
        if limit is not None and shown >= limit:
            break
        groups = day.groups if limit is None else day.groups[: limit - shown]
        shown += len(groups)
        days.append(ReportDayView(_first_upper(format_date(day.day, "full", locale=babel_locale())),
                                  tuple(line_of(g) for g in groups)))
    total = len(report.groups)
    return {
        "report": report,
        "days": days,
        "more": total - shown,
        "period_text": _("{start} to {end}").format(
            start=format_date(report.period.start.astimezone(OSLO).date(), "long", locale=babel_locale()),
            end=format_date(report.period.end.astimezone(OSLO).date(), "long", locale=babel_locale())),
    }


def period_choices(selected: int) -> list[dict[str, Any]]:
    """The periods a reader may pick, labelled in their language."""
    return [{"months": m, "selected": m == selected,
             "label": ngettext("The last month", "The last {n} months", m).format(n=m)} for m in PERIOD_MONTHS]


def chosen_period(request: web.Request, service: AccessReportService) -> tuple[Period, str]:
    """The period asked for in ``?months=``, else the default; a choice we do not offer is told, not
    silently replaced."""
    raw = request.query.get("months", "")
    if not raw:
        return service.period(DEFAULT_PERIOD_MONTHS), ""
    try:
        return service.period(int(raw)), ""
    except (ValueError, ValidationFailed):
        return service.period(DEFAULT_PERIOD_MONTHS), _(
            "Choose one of the periods in the list. The last 12 months are shown.")


async def _patient_guest(request: web.Request, booking_id: str) -> tuple[BookingRoom, Identity]:
    """The booking and the guest, if the guest is the patient themself; else "not found"."""
    app = request.app
    booking, identity = await resolve_participant(app[LIVE_REGISTRY], app[GUEST_ACCESS], booking_id,
                                                  caller(request))
    if identity.role is not ParticipantRole.PATIENT or identity.is_staff or booking.patient_id is None:
        # Relatives and interpreters see the summary, never this; the same answer as for no page at all.
        raise NotFound("no access report for this session")
    return booking, identity


async def patient_summary_section(request: web.Request, booking: BookingRoom,
                                  identity: Identity) -> dict[str, Any] | None:
    """The section beside the shared summary: who looked, for the patient only (the read is audited)."""
    if identity.role is not ParticipantRole.PATIENT or booking.patient_id is None:
        return None
    service = request.app[ACCESS_REPORTS]
    async with request.app[DATABASE].session(write_lock=True) as session:
        report = await service.for_patient(session, actor_for(identity), booking.patient_id, service.period())
    return {**report_view(report, limit=SUMMARY_LINES),
            "full_url": f"/consultations/{booking.booking_id}/access-log"}


async def guest_access_log(request: web.Request) -> web.StreamResponse:
    """The patient's own page: everyone who accessed their information over a chosen period."""
    booking_id = request.match_info["booking_id"]
    booking, identity = await _patient_guest(request, booking_id)
    service = request.app[ACCESS_REPORTS]
    period, error = chosen_period(request, service)
    assert booking.patient_id is not None  # checked by _patient_guest
    async with request.app[DATABASE].session(write_lock=True) as session:
        report = await service.for_patient(session, actor_for(identity), booking.patient_id, period)
    return render(request, "guest_access_log.html", {
        **report_view(report), "booking_id": booking.booking_id, "periods": period_choices(period.months),
        "form_error": error,
    }, status=422 if error else 200)


async def staff_access_report(request: web.Request) -> web.StreamResponse:
    """The printable report staff open for a patient who asks to see who looked (audited as such)."""
    actor = require_actor(request, *CLINICAL_ROLES)
    public_id = request.match_info["public_id"]
    service = request.app[ACCESS_REPORTS]
    period, error = chosen_period(request, service)
    async with request.app[DATABASE].session(write_lock=True) as session:
        report = await service.for_staff(session, actor, public_id, period,
                                         reason=AuditReason.PATIENT_ACCESS_REQUEST, action="print")
    return render(request, "patient_access_report.html", {
        **report_view(report), "public_id": public_id, "periods": period_choices(period.months),
        "form_error": error,
    }, status=422 if error else 200)


def setup_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/consultations/{booking_id}/access-log", guest_access_log)
    router.add_get("/patients/{public_id}/access-report", staff_access_report)
