"""Consultation notes of Samkonsult: the pure domain, no database and no HTTP.

Modules:

- :mod:`notes.model`: the note's parts as frozen dataclasses (what matters, assessment, bow-tie risks,
  measures, advance care planning, readings, text per profession) and the note header.
- :mod:`notes.validation`: limits and rules, every error with its field path.
- :mod:`notes.codec`: the stable JSON form stored as a version, with a schema number.
- :mod:`notes.parts`: the note seen as named parts (``what_matters``, ``measures[<id>]``, ...).
- :mod:`notes.merge`: three-way merge per part; the same part changed on both sides is a conflict.
- :mod:`notes.signing`: the note's state (version, signature, amendments) and its pure transitions.
- :mod:`notes.editing`: a save based on a version, merged with whatever was saved meanwhile.
- :mod:`notes.headings` and :mod:`notes.render`: Norwegian and English labels, plain text per part.
- :mod:`notes.document`: the note laid out in sections for reading, amendments beside their originals.
- :mod:`notes.export_text`, :mod:`notes.export_fhir`, :mod:`notes.export_pdf`: the exports.
- :mod:`notes.errors`: domain errors with stable codes, free of HTTP.

Time comes from an injected clock; nothing here calls ``datetime.now()``.
"""
