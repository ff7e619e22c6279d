"""The JSON API of the benefits report and its settings (team leaders and administrators).

``GET /api/reports/benefits`` answers the same figures as the report page, as aggregates only: every
count under five is ``{"value": null, "suppressed": true}``, and so is every figure derived from it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from scheduling.benefits.access import REPORT_ROLES, SETTINGS_ROLES
from scheduling.benefits.settings import RANGES
from scheduling.models import AdmissionAvoided, FollowUp, Urgency
from server.platform.appkeys import CLOCK, DATABASE
from server.platform.local_time import OSLO
from web.appkeys import SCHEDULING
from web.forms import json_object
from web.guards import require_actor
from web.openapi import ApiRoute
from web.reads import reading
from web.report_query import read_report_query


async def benefits_report(request: web.Request) -> web.Response:
    """The benefits report for a period and filters (one audit row per view, naming no patient)."""
    actor = require_actor(request, *REPORT_ROLES)
    today = request.app[CLOCK].now().astimezone(OSLO).date()
    period, filters = read_report_query(request.query, today)
    async with reading(request) as session:
        report = await request.app[SCHEDULING].benefits.report(session, actor, period, filters)
    return web.json_response(report.as_json(), headers={"Cache-Control": "no-store"})


async def benefit_settings_get(request: web.Request) -> web.Response:
    """The rates and targets the report uses, with the sources of the defaults."""
    actor = require_actor(request, *REPORT_ROLES)
    async with reading(request) as session:
        settings = await request.app[SCHEDULING].benefit_settings.get(session, actor)
    return web.json_response(settings.as_json())


async def benefit_settings_put(request: web.Request) -> web.Response:
    """Change any of the settings (administrators); the rest keep their value. Audited."""
    actor = require_actor(request, *SETTINGS_ROLES)
    body = await json_object(request)
    async with request.app[DATABASE].session() as session:
        settings = await request.app[SCHEDULING].benefit_settings.update(session, actor, body)
    return web.json_response(settings.as_json())


# ------------------------------------------------------------------------------------- OpenAPI

def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_ID = {"type": "string", "pattern": "^[0-9]+$"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

API_ROUTES: list[ApiRoute] = [
    ApiRoute("GET", "/api/reports/benefits", benefits_report,
             "What the joint consultations saved in a period: consultations, trips, km, hours, NOK, CO2, "
             "response times and outcomes, by month, municipality, type and department; counts under 5 "
             "are suppressed (team leaders, administrators; audited)",
             _ref("BenefitsReport"), tag="reports",
             parameters=[
                 _q("from", _DATE, "The first day (Europe/Oslo); with period, a day inside the period"),
                 _q("to", _DATE, "The last day, included; at most five years after from; not with period"),
                 _q("period", {"type": "string", "enum": ["month", "quarter", "year"]},
                    "The month, quarter or year containing from (today when from is absent)"),
                 _q("municipality", _ID, "Only consultations in this municipality (organisation id)"),
                 _q("consultation_type", _ID, "Only consultations of this type (id)"),
                 _q("department", _ID, "Only consultations of this hospital department (id)"),
             ]),
    ApiRoute("GET", "/api/reports/benefit-settings", benefit_settings_get,
             "The rates and targets of the benefits report, with the sources of the defaults",
             _ref("BenefitSettings"), tag="reports"),
    ApiRoute("PUT", "/api/reports/benefit-settings", benefit_settings_put,
             "Change the rates and targets of the benefits report (administrators; omitted fields keep "
             "their value; audited)", _ref("BenefitSettings"), request_schema="BenefitSettingsInput",
             tag="reports"),
]

_BELOW = {"type": "boolean", "description": "Hidden because under 5 (shown as \"<5\"); false when hidden so "
                                           "that a small neighbour cannot be worked out (shown as \":\")"}
_COUNT = {"type": "object", "required": ["value", "suppressed", "below_limit"], "additionalProperties": False,
          "description": "A count; value is null and suppressed true when under 5 (or hidden so that a "
                         "suppressed neighbour cannot be worked out)",
          "properties": {"value": {"type": ["integer", "null"], "minimum": 0}, "suppressed": {"type": "boolean"},
                         "below_limit": _BELOW}}
_AMOUNT = {"type": "object", "required": ["value", "unit", "suppressed", "below_limit"],
           "additionalProperties": False,
           "description": "A figure derived from a count, hidden with it",
           "properties": {"value": _NUMBER_OR_NULL, "unit": {"type": "string", "enum": ["km", "hours", "NOK",
                                                                                       "kg_co2"]},
                          "suppressed": {"type": "boolean"}, "below_limit": _BELOW}}
_SHARE = {"type": "object", "required": ["value", "target", "meets_target", "suppressed", "below_limit"],
          "additionalProperties": False,
          "description": "A share 0..1 against a target; value null when suppressed or when nothing was counted",
          "properties": {"value": _NUMBER_OR_NULL, "target": _NUMBER_OR_NULL,
                         "meets_target": {"type": ["boolean", "null"]}, "suppressed": {"type": "boolean"},
                         "below_limit": _BELOW}}
_COUNTS = ["consultations", "held", "cancelled", "no_show", "upcoming", "held_at_home", "trips_avoided",
           "patient_trips_avoided", "escort_trips_avoided", "nurse_trips_avoided", "held_without_travel_data"]
_AMOUNTS = ["km_avoided", "travel_hours_avoided", "travel_cost_avoided_nok", "co2_avoided_kg",
            "staff_hours_avoided"]
_FIGURE_PROPERTIES: dict[str, Any] = {
    **{name: _ref("BenefitsCount") for name in _COUNTS},
    **{name: _ref("BenefitsAmount") for name in _AMOUNTS},
    "video_share": _ref("BenefitsShare"), "home_share": _ref("BenefitsShare"),
}
_FIGURES_REQUIRED = [*_COUNTS, *_AMOUNTS, "video_share", "home_share"]
_BREAKDOWN_ROW = {"type": "object", "required": ["id", "name", "name_en", *_FIGURES_REQUIRED], "properties": {
    "id": {"type": ["integer", "null"]}, "name": {"type": "string"}, "name_en": {"type": "string"},
    **_FIGURE_PROPERTIES}}
_STAT = {"type": "object", "required": ["median", "p90"], "properties": {
    "median": _ref("BenefitsAmount"), "p90": _ref("BenefitsAmount")}}
_URGENCIES = [u.value for u in Urgency]

SCHEMAS: dict[str, Any] = {
    "BenefitsCount": _COUNT,
    "BenefitsAmount": _AMOUNT,
    "BenefitsShare": _SHARE,
    "BenefitsFigures": {"type": "object", "required": _FIGURES_REQUIRED, "properties": _FIGURE_PROPERTIES},
    "BenefitsReport": {
        "type": "object",
        "required": ["period", "filters", "settings", "generated_at", "small_cell_limit", "totals", "months",
                     "by_municipality", "by_consultation_type", "by_department", "response_times", "outcomes"],
        "properties": {
            "period": {"type": "object", "required": ["from", "to", "kind"], "properties": {
                "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                "kind": {"type": "string", "enum": ["month", "quarter", "year", "custom"]}}},
            "filters": {"type": "object", "properties": {
                "municipality": {"type": ["integer", "null"]}, "consultation_type": {"type": ["integer", "null"]},
                "department": {"type": ["integer", "null"]}}},
            "settings": {"type": "object", "required": ["cost_per_km_nok", "co2_kg_per_km", "target_days"],
                         "properties": {
                "cost_per_km_nok": {"type": "number"}, "cost_per_km_source": {"type": "string"},
                "escort_cost_counted": {"type": "boolean"}, "co2_kg_per_km": {"type": "number"},
                "co2_source": {"type": "string"}, "video_share_target": {"type": "number"},
                "home_share_target": {"type": "number"},
                "target_days": {"type": "object", "properties": {u: {"type": "number"} for u in _URGENCIES}}}},
            "generated_at": {"type": "string", "format": "date-time"},
            "small_cell_limit": {"type": "integer"},
            "totals": _ref("BenefitsFigures"),
            "months": {"type": "array", "items": {"type": "object", "required": ["month", *_FIGURES_REQUIRED],
                                                  "properties": {"month": {"type": "string",
                                                                           "pattern": r"^\d{4}-\d{2}$"},
                                                                 **_FIGURE_PROPERTIES}}},
            "by_municipality": {"type": "array", "items": _BREAKDOWN_ROW},
            "by_consultation_type": {"type": "array", "items": _BREAKDOWN_ROW},
            "by_department": {"type": "array", "items": _BREAKDOWN_ROW},
            "response_times": {"type": "array", "items": {"type": "object", "required": [
                "urgency", "consultations", "target_days", "received_to_booked_hours", "received_to_held_hours",
                "within_target"], "properties": {
                "urgency": {"type": "string", "enum": _URGENCIES}, "consultations": _ref("BenefitsCount"),
                "target_days": {"type": "number"}, "received_to_booked_hours": _STAT,
                "received_to_held_hours": _STAT, "within_target": _ref("BenefitsShare")}}},
            "outcomes": {"type": "object", "required": ["held", "recorded", "admission_avoided", "follow_up"],
                         "properties": {
                "held": _ref("BenefitsCount"), "recorded": _ref("BenefitsCount"),
                "admission_avoided": {"type": "object", "properties": {
                    a.value: _ref("BenefitsCount") for a in AdmissionAvoided}},
                "follow_up": {"type": "object", "properties": {f.value: _ref("BenefitsCount") for f in FollowUp}}}},
        },
    },
    "BenefitSettings": {
        "type": "object",
        "required": [*RANGES, "escort_cost_counted", "updated_at", "sources"],
        "properties": {
            **{name: {"type": "number"} for name in RANGES},
            "escort_cost_counted": {"type": "boolean"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "sources": {"type": "object", "properties": {"cost_per_km_nok": {"type": "string"},
                                                         "co2_kg_per_km": {"type": "string"}}},
        },
    },
    "BenefitSettingsInput": {
        "type": "object", "additionalProperties": False,
        "properties": {
            **{name: {"type": "number", "minimum": low, "maximum": high} for name, (low, high) in RANGES.items()},
            "escort_cost_counted": {"type": "boolean"},
        },
    },
}
