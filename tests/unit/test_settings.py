"""Settings: every bad or missing value is named at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.platform.settings import SettingsError, load_settings

GOOD = {
    "SAMKONSULT_DATABASE_URL": "sqlite+aiosqlite:///var/x.db",
    "SAMKONSULT_SESSION_SECRET": "s" * 32,
    "SAMKONSULT_TOTP_ENCRYPTION_KEY": "k" * 32,
    "SAMKONSULT_AUDIT_KEY": "a" * 32,
}


def test_good_settings_load() -> None:
    s = load_settings({**GOOD, "SAMKONSULT_PORT": "9000", "SAMKONSULT_SMTP_TLS": "yes"})
    assert s.port == 9000 and s.smtp_tls is True and s.default_language == "nb"


def test_media_forwarding_defaults_to_frames_and_takes_packets() -> None:
    assert load_settings(GOOD).media_forwarding == "frames"
    assert load_settings({**GOOD, "SAMKONSULT_MEDIA_FORWARDING": "packets"}).media_forwarding == "packets"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("SAMKONSULT_PORT", "eighty"),
        ("SAMKONSULT_PORT", "70000"),
        ("SAMKONSULT_DEMO_MODE", "maybe"),
        ("SAMKONSULT_DATABASE_URL", "mysql://x"),
        ("SAMKONSULT_DEFAULT_LANGUAGE", "de"),
        ("SAMKONSULT_SESSION_SECRET", "short"),
        ("SAMKONSULT_PUBLIC_URL", "ftp://x"),
        ("SAMKONSULT_NO_SUCH_THING", "1"),
        ("SAMKONSULT_ROOM_OPENS_MINUTES_BEFORE", "45"),
        ("SAMKONSULT_MEDIA_FORWARDING", "transcode"),
    ],
)
def test_bad_value_names_the_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({**GOOD, key: value})
    assert info.value.key == key
    assert key in str(info.value)


def test_missing_secret_outside_demo_is_refused() -> None:
    env = {k: v for k, v in GOOD.items() if k != "SAMKONSULT_SESSION_SECRET"}
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert info.value.key == "SAMKONSULT_SESSION_SECRET"


def test_demo_mode_generates_and_keeps_a_secret(tmp_path: Path) -> None:
    env = {"SAMKONSULT_DATABASE_URL": GOOD["SAMKONSULT_DATABASE_URL"], "SAMKONSULT_DEMO_MODE": "true",
           "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp_path / "secrets.json")}
    first = load_settings(env)
    second = load_settings(env)
    assert len(first.session_secret) >= 32
    assert first.session_secret == second.session_secret
    assert first.totp_encryption_key != first.session_secret


def test_secret_from_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("x" * 40 + "\n")
    env = {k: v for k, v in GOOD.items() if k != "SAMKONSULT_SESSION_SECRET"}
    env["SAMKONSULT_SESSION_SECRET_FILE"] = str(secret_file)
    assert load_settings(env).session_secret == "x" * 40


def test_toml_file_and_environment_override(tmp_path: Path) -> None:
    config = tmp_path / "samkonsult.toml"
    config.write_text('port = 9100\nlog_level = "debug"\n')
    s = load_settings({**GOOD, "SAMKONSULT_CONFIG": str(config)})
    assert s.port == 9100 and s.log_level == "DEBUG"
    s = load_settings({**GOOD, "SAMKONSULT_CONFIG": str(config), "SAMKONSULT_PORT": "9200"})
    assert s.port == 9200


def test_unknown_key_in_toml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "samkonsult.toml"
    config.write_text("prot = 9100\n")
    with pytest.raises(SettingsError) as info:
        load_settings({**GOOD, "SAMKONSULT_CONFIG": str(config)})
    assert info.value.key == "prot"


def test_cli_stops_with_the_name_of_the_bad_key() -> None:
    env = {**GOOD, "SAMKONSULT_PORT": "not-a-port", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "server.cli", "migrate"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "SAMKONSULT_PORT" in result.stderr


def test_media_runs_in_one_worker_per_core_unless_told_otherwise() -> None:
    assert load_settings(GOOD).media_workers == (os.cpu_count() or 1)
    assert load_settings({**GOOD, "SAMKONSULT_MEDIA_WORKERS": "auto"}).media_workers == (os.cpu_count() or 1)
    assert load_settings({**GOOD, "SAMKONSULT_MEDIA_WORKERS": "0"}).media_workers == 0, "0: in the serving process"
    assert load_settings({**GOOD, "SAMKONSULT_MEDIA_WORKERS": "3"}).media_workers == 3
