"""Typed settings, read once from the environment (``SAMKONSULT_*``) and an optional TOML file.

A bad or missing value stops start-up with the name of the key, so an operator never has to guess.
Secrets come from the environment or from a file named by ``SAMKONSULT_<KEY>_FILE``; only demo
mode may generate a development secret.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "SAMKONSULT_"


def _parse_network(label: str, value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise SettingsError(label, f"not an IP address or network: {value!r}") from None


class SettingsError(Exception):
    """A setting is missing or malformed; ``key`` names it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"setting {key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    """Everything the process can be configured with."""

    database_url: str
    session_secret: str
    totp_encryption_key: str
    # Keys the audit chain (HMAC-SHA256) and signs its checkpoints. Kept outside the database, like the
    # TOTP key: lose it and the existing chain can no longer be verified. Empty only in Settings built
    # in code (tests): load_settings requires it outside demo mode.
    audit_key: str = ""
    # Where signed checkpoints of the audit chain's head are appended: outside the database, ideally on
    # storage the database's users cannot write. load_settings fills in var/audit-checkpoints.jsonl.
    audit_checkpoint_file: str = ""
    audit_checkpoint_minutes: int = 5
    # Wraps each recording's own data key (recordings are sealed with AES-GCM under that data key). Kept
    # outside the database and the recordings directory: lose it and no recording can be played. Empty:
    # this server does not record (demo mode generates one).
    recording_key: str = ""
    # Where sealed recordings are kept: outside the web root, on storage of its own ideally.
    recording_dir: str = "var/recordings"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; empty: trust none,
    # the TCP peer is the client.
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    # The bearer token a metrics scraper sends to /metrics. Empty: /metrics answers only requests made
    # on this machine (loopback, not forwarded by a proxy), and 404 to everyone else.
    metrics_token: str = ""
    demo_mode: bool = False
    demo_relax_totp: bool = False
    default_language: str = "nb"
    max_body_bytes: int = 1024 * 1024
    session_lifetime_minutes: int = 12 * 60
    session_idle_minutes: int = 30
    failed_login_limit_per_hour: int = 100
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_tls: bool = False
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = "samkonsult@localhost.localdomain"
    # An HTTP SMS gateway: JSON is POSTed to this URL with the token as a bearer token. Empty: no SMS
    # gateway, and text messages wait in the outbox, shown as not sent.
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_sender: str = "Samkonsult"
    # The name people see in a join code message: the health service that invites them, never a ward.
    service_name: str = "Samkonsult"
    ice_servers: tuple[str, ...] = field(default_factory=tuple)
    # Calendar feeds are fetched from public addresses only; a trust's own internal calendar server is
    # let through by naming it here (host names, or address ranges in CIDR form such as 10.20.0.0/16).
    calendar_feed_allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    turn_secret: str = ""
    log_level: str = "INFO"
    background_jobs: bool = True
    reminder_hours: int = 24
    # How long before its start a consultation room lets people in: a nurse with a frail patient may
    # want more time to settle them in front of the camera (join codes work from 30 minutes before).
    room_opens_minutes_before: int = 15
    # Media worker processes: each live room's peer connections and forwarding run in one of them, so
    # media uses every core and a slow page or export cannot hold up a call. "auto", the default when
    # settings are read from the environment or a file, is one per core; 0 keeps the media in the serving
    # process (as settings built in code, the tests' in-process apps, do).
    media_workers: int = 0
    # How the media is forwarded: "frames" (each publisher's RTP is assembled into encoded frames that
    # each recipient's sender re-packetizes) or "packets" (each RTP packet is rewritten per recipient and
    # sent on at once: less CPU per forwarded stream). Frames stays the default until packets is proven.
    media_forwarding: str = "frames"
    # Several nodes serving the same consultations share the database and this Redis, which says which
    # node holds each live room (redis:// or rediss://). Empty: this is the only node.
    redis_url: str = ""
    # This node's own base URL, where participants who reached another node are sent to join a room held
    # here. Empty: the public URL (right when each node has an address of its own).
    node_url: str = ""

    @property
    def served_over_tls(self) -> bool:
        return self.public_url.startswith("https://")


_INT_KEYS = {
    "port",
    "max_body_bytes",
    "session_lifetime_minutes",
    "session_idle_minutes",
    "failed_login_limit_per_hour",
    "smtp_port",
    "reminder_hours",
    "room_opens_minutes_before",
    "audit_checkpoint_minutes",
    "media_workers",
}
_BOOL_KEYS = {"demo_mode", "demo_relax_totp", "smtp_tls", "smtp_starttls", "background_jobs"}
_LIST_KEYS = {"ice_servers", "calendar_feed_allowed_hosts"}
_SECRET_KEYS = {"redis_url", "session_secret", "totp_encryption_key", "audit_key", "smtp_password", "turn_secret",
                "sms_gateway_token", "metrics_token", "recording_key"}
_REQUIRED_SECRETS = ("session_secret", "totp_encryption_key", "audit_key")
_LANGUAGES = {"nb", "en"}
_MEDIA_FORWARDING = {"frames", "packets"}  # rooms.media.FORWARDING_MODES (platform imports nothing of ours)
# Variables with our prefix that are not settings of the server itself.
_NOT_SETTINGS = {ENV_PREFIX + "CONFIG", ENV_PREFIX + "DEMO_SECRETS_FILE", ENV_PREFIX + "NEW_USER_PASSWORD",
                 ENV_PREFIX + "TEST_POSTGRES_URL"}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}


def _parse_bool(key: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(key, f"expected true or false, got {raw!r}")


def _parse_int(key: str, raw: object) -> int:
    if isinstance(raw, bool):
        raise SettingsError(key, f"expected a whole number, got {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(key, f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(key, "must not be negative")
    return value


def _read_secret_file(key: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(key, f"cannot read secret file {path!r}: {exc.strerror}") from None


def _demo_secret(env: Mapping[str, str], name: str) -> str:
    """A development secret, generated once and kept beside the demo database (never in the repo).

    Kept rather than regenerated so that TOTP secrets stay readable and sessions survive a restart.
    """
    path = Path(env.get(ENV_PREFIX + "DEMO_SECRETS_FILE", "var/demo-secrets.json"))
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SettingsError(ENV_PREFIX + "DEMO_SECRETS_FILE", f"cannot read {path}") from None
    if name not in stored:
        stored[name] = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored), encoding="utf-8")
        path.chmod(0o600)
    return stored[name]


def load_settings(
    environ: Mapping[str, str] | None = None,
    toml_path: str | Path | None = None,
) -> Settings:
    """Build settings from a TOML file (optional) overlaid by ``SAMKONSULT_*`` environment variables."""
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, Any] = {}
    config_file = toml_path or env.get(ENV_PREFIX + "CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                raw.update(tomllib.load(fh))
        except OSError as exc:
            raise SettingsError("config", f"cannot read {config_file!r}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError("config", f"invalid TOML in {config_file!r}: {exc}") from None
    known = set(Settings.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise SettingsError(key, "unknown setting in the configuration file")
    for name in known:
        env_key = ENV_PREFIX + name.upper()
        if env_key in env:
            raw[name] = env[env_key]
        file_key = env_key + "_FILE"
        if name in _SECRET_KEYS and file_key in env:
            raw[name] = _read_secret_file(env_key, env[file_key])
    for env_key in env:
        if env_key.startswith(ENV_PREFIX) and env_key not in _NOT_SETTINGS:
            name = env_key[len(ENV_PREFIX) :].lower()
            # A name ending in _FILE is a setting of its own (AUDIT_CHECKPOINT_FILE) or a secret's file.
            if name not in known and name.removesuffix("_file") not in _SECRET_KEYS:
                raise SettingsError(env_key, "unknown setting")

    if str(raw.get("media_workers", "auto")).strip().lower() == "auto":
        raw["media_workers"] = os.cpu_count() or 1
    values: dict[str, Any] = {}
    for name, value in raw.items():
        label = ENV_PREFIX + name.upper()
        if name in _INT_KEYS:
            values[name] = _parse_int(label, value)
        elif name in _BOOL_KEYS:
            values[name] = _parse_bool(label, value)
        elif name == "trusted_proxies":
            items = value if isinstance(value, list) else str(value).split(",")
            values[name] = tuple(_parse_network(label, str(item).strip()) for item in items if str(item).strip())
        elif name in _LIST_KEYS:
            items = value if isinstance(value, list) else str(value).split(",")
            values[name] = tuple(str(item).strip() for item in items if str(item).strip())
        else:
            values[name] = str(value)

    demo = bool(values.get("demo_mode", False))
    for secret_name in _REQUIRED_SECRETS:
        if not values.get(secret_name):
            if not demo:
                raise SettingsError(ENV_PREFIX + secret_name.upper(), "missing (set it or its _FILE variant)")
            values[secret_name] = _demo_secret(env, secret_name)
        elif len(values[secret_name]) < 16:
            raise SettingsError(ENV_PREFIX + secret_name.upper(), "too short, use at least 16 characters")
    if values.get("recording_key"):
        if len(values["recording_key"]) < 16:
            raise SettingsError(ENV_PREFIX + "RECORDING_KEY", "too short, use at least 16 characters")
    elif demo:
        values["recording_key"] = _demo_secret(env, "recording_key")
    if not values.get("audit_checkpoint_file"):
        # Demo mode keeps its checkpoints beside its generated key, so each demo has its own.
        values["audit_checkpoint_file"] = str(
            Path(env.get(ENV_PREFIX + "DEMO_SECRETS_FILE", "var/demo-secrets.json")).parent
            / "audit-checkpoints.jsonl") if demo else "var/audit-checkpoints.jsonl"
    if values.get("metrics_token") and len(values["metrics_token"]) < 16:
        raise SettingsError(ENV_PREFIX + "METRICS_TOKEN", "too short, use at least 16 characters")
    if values.get("audit_checkpoint_minutes", 5) < 1:
        raise SettingsError(ENV_PREFIX + "AUDIT_CHECKPOINT_MINUTES", "must be at least 1")
    if not values.get("database_url"):
        raise SettingsError(ENV_PREFIX + "DATABASE_URL", "missing")
    url = values["database_url"]
    if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
        raise SettingsError(
            ENV_PREFIX + "DATABASE_URL", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    if values.get("default_language", "nb") not in _LANGUAGES:
        raise SettingsError(ENV_PREFIX + "DEFAULT_LANGUAGE", "must be nb or en")
    if str(values.get("log_level", "INFO")).upper() not in _LOG_LEVELS:
        raise SettingsError(ENV_PREFIX + "LOG_LEVEL", f"must be one of {sorted(_LOG_LEVELS)}")
    if "log_level" in values:
        values["log_level"] = values["log_level"].upper()
    if not 0 <= values.get("room_opens_minutes_before", 15) <= 30:
        raise SettingsError(ENV_PREFIX + "ROOM_OPENS_MINUTES_BEFORE", "must be between 0 and 30 "
                            "(a join code works from 30 minutes before the start)")
    redis_url = values.get("redis_url", "")
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(ENV_PREFIX + "REDIS_URL", "must start with redis://, rediss:// or unix://")
    node_url = values.get("node_url", "")
    if node_url and not node_url.startswith(("http://", "https://")):
        raise SettingsError(ENV_PREFIX + "NODE_URL", "must start with http:// or https://")
    if values.get("media_forwarding", "frames") not in _MEDIA_FORWARDING:
        raise SettingsError(ENV_PREFIX + "MEDIA_FORWARDING", "must be frames or packets")
    if values.get("media_workers", 0) > 64:
        raise SettingsError(ENV_PREFIX + "MEDIA_WORKERS", "at most 64 (auto is one per core)")
    port = values.get("port", 8080)
    if not 0 < port < 65536:
        raise SettingsError(ENV_PREFIX + "PORT", "must be between 1 and 65535")
    public_url = values.get("public_url", "")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise SettingsError(ENV_PREFIX + "PUBLIC_URL", "must start with http:// or https://")
    sms_url = values.get("sms_gateway_url", "")
    if sms_url and not sms_url.startswith(("http://", "https://")):
        raise SettingsError(ENV_PREFIX + "SMS_GATEWAY_URL", "must start with http:// or https://")
    if sms_url.startswith("http://") and not demo:
        # the token, every recipient's number and the join codes would cross the network in the clear
        if urlsplit(sms_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
            raise SettingsError(ENV_PREFIX + "SMS_GATEWAY_URL", "use https:// for a gateway on another machine")
    for entry in values.get("calendar_feed_allowed_hosts", ()):
        if not _host_or_network(entry):
            raise SettingsError(ENV_PREFIX + "CALENDAR_FEED_ALLOWED_HOSTS",
                                f"{entry!r} is neither a host name nor an address range such as 10.20.0.0/16")
    if values.get("demo_relax_totp") and not demo:
        raise SettingsError(ENV_PREFIX + "DEMO_RELAX_TOTP", "only allowed together with SAMKONSULT_DEMO_MODE")
    if demo:
        _refuse_exposed_demo(values)
    else:
        _refuse_demo_secrets(env, values)
    return Settings(**values)


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\.?$){_LABEL}(\.{_LABEL})*\.?", re.IGNORECASE)


def _host_or_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry.removeprefix("[").removesuffix("]"), strict=False)
    except ValueError:
        return _HOST_NAME.fullmatch(entry) is not None
    return True


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _is_loopback(host: str | None) -> bool:
    return bool(host) and (host in _LOOPBACK_HOSTS or str(host).startswith("127."))


def _refuse_exposed_demo(values: Mapping[str, Any]) -> None:
    """Demo mode (generated secrets, public demo passwords, relaxed two-factor) stays on this machine.

    Both the address the process listens on and the address users reach count: behind a reverse proxy
    the process listens on loopback while the proxy exposes it to everyone.
    """
    host = str(values.get("host", "127.0.0.1"))
    if not _is_loopback(host):
        raise SettingsError(ENV_PREFIX + "DEMO_MODE",
                            f"demo mode only listens on a loopback address, not {host!r} (SAMKONSULT_HOST)")
    public_host = urlsplit(str(values.get("public_url", "http://127.0.0.1:8080"))).hostname
    if not _is_loopback(public_host):
        raise SettingsError(ENV_PREFIX + "DEMO_MODE",
                            f"demo mode is not for an address others reach ({public_host}, SAMKONSULT_PUBLIC_URL)")


def _refuse_demo_secrets(env: Mapping[str, str], values: Mapping[str, Any]) -> None:
    """Outside demo mode a secret must not be one that demo mode generated (or the file it keeps them in).

    The demo's secrets sit unprotected beside a development checkout; a copied one would let anyone who
    saw that file forge CSRF tokens or read every TOTP secret.
    """
    demo_file = Path(env.get(ENV_PREFIX + "DEMO_SECRETS_FILE", "var/demo-secrets.json"))
    demo_values: set[str] = set()
    if demo_file.is_file():
        try:
            stored = json.loads(demo_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        if isinstance(stored, dict):
            demo_values = {str(v) for v in stored.values()}
    for name in (*_REQUIRED_SECRETS, "recording_key"):
        key = ENV_PREFIX + name.upper()
        named_file = env.get(key + "_FILE")
        if named_file and demo_file.is_file() and Path(named_file).resolve() == demo_file.resolve():
            raise SettingsError(key, f"reads the demo secrets file {str(demo_file)!r}; make a secret of its own")
        if values.get(name) in demo_values:
            raise SettingsError(key, f"is a demo secret (from {str(demo_file)!r}); make a secret of its own")
