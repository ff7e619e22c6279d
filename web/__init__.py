"""HTTP: pages, the JSON API, static files, health and metrics endpoints."""
