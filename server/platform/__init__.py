"""The platform: settings, clock, database, errors, actors, audit log. Imports nothing else of ours."""
