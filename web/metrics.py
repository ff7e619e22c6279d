"""Prometheus metrics, one registry per app (no process-wide globals)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    errors: Counter


def create_metrics() -> Metrics:
    registry = CollectorRegistry()
    return Metrics(
        registry=registry,
        requests=Counter("samkonsult_http_requests", "HTTP requests", ["method", "route", "status"],
                         registry=registry),
        latency=Histogram("samkonsult_http_request_seconds", "HTTP request latency", ["method", "route"],
                          registry=registry),
        errors=Counter("samkonsult_http_errors", "HTTP 5xx answers", ["route"], registry=registry),
    )


METRICS = web.AppKey("metrics", Metrics)


def route_label(request: web.Request) -> str:
    """The route pattern, never the concrete path (which may hold ids)."""
    info = request.match_info.route.resource
    if info is None:
        return "unmatched"
    return info.canonical


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
