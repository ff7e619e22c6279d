"""Prometheus metrics, one registry per app (no process-wide globals).

The metrics are for operators: they tell how many logins fail on which route and how the server is
doing, so ``/metrics`` answers a scraper that sends ``SAMKONSULT_METRICS_TOKEN`` as a bearer token,
or, when no token is set, only requests made on this machine that no proxy forwarded.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from server.platform.appkeys import SETTINGS

# A proxy on this machine connects from loopback too; one that forwards a request says so in these.
_FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")


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


def _from_this_machine(request: web.Request) -> bool:
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    return peer.is_loopback and not any(name in request.headers for name in _FORWARDING_HEADERS)


def _check_access(request: web.Request) -> None:
    """Raise 401 (a token is set, and this is not it) or 404 (no token: only this machine may ask)."""
    token = request.app[SETTINGS].metrics_token
    if not token:
        if not _from_this_machine(request):
            raise web.HTTPNotFound()
        return
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


async def metrics_handler(request: web.Request) -> web.Response:
    """The metrics in Prometheus' text format, for an operator's scraper only (see the module's doc)."""
    _check_access(request)
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
