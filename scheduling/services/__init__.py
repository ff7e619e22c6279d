"""Scheduling services: the database-backed layer over the pure rules in :mod:`scheduling`.

Every service takes its clock (and the audit log where health data is touched) in its constructor and
an ``AsyncSession`` (a unit of work from ``server.platform.db.Database.session``) per call, like
``server.people.patients.PatientService``. Inputs and outputs are frozen dataclasses from
:mod:`scheduling.services.views`; failures are ``server.platform.errors.DomainError`` subclasses with stable codes.

Booking and rescheduling must run in ``db.session(write_lock=True)``: on SQLite that is what makes the
check-then-insert atomic, and the service refuses to run without it.
"""
