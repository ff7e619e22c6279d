"""Kinds of organisation and the roles of staff: what an actor is, for access rules and the audit log."""

from __future__ import annotations

import enum


class OrganisationKind(enum.StrEnum):
    HOSPITAL = "hospital"
    MUNICIPALITY = "municipality"


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    SPECIALIST = "specialist"
    NURSE = "nurse"
    TEAM_LEADER = "team_leader"
    ADMIN = "admin"
