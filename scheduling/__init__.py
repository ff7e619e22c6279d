"""Scheduling domain of Samkonsult: pure rules, no database and no HTTP.

Modules:

- :mod:`scheduling.intervals`: half-open UTC intervals and normalised interval sets.
- :mod:`scheduling.availability`: weekly hours, dated exceptions and Norwegian public holidays,
  expanded to free UTC intervals (DST correct).
- :mod:`scheduling.slot_search`: earliest slots at which every required resource is free.
- :mod:`scheduling.ical_import`: busy times from an uploaded or fetched ``.ics`` file.
- :mod:`scheduling.ical_invite`: iCalendar invites (REQUEST/CANCEL) and subscribable feeds.
- :mod:`scheduling.errors`: domain errors with stable codes, free of HTTP.

Every function takes its clock as a parameter; nothing here calls ``datetime.now()``.
"""
