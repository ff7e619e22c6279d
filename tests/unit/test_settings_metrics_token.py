"""SAMKONSULT_METRICS_TOKEN: empty by default, read from the environment or its _FILE, never short."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.platform.settings import SettingsError, load_settings

GOOD = {
    "SAMKONSULT_DATABASE_URL": "sqlite+aiosqlite:///var/x.db",
    "SAMKONSULT_SESSION_SECRET": "s" * 32,
    "SAMKONSULT_TOTP_ENCRYPTION_KEY": "k" * 32,
    "SAMKONSULT_AUDIT_KEY": "a" * 32,
}


def test_no_token_by_default() -> None:
    assert load_settings(GOOD).metrics_token == ""


def test_the_token_is_read_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert load_settings({**GOOD, "SAMKONSULT_METRICS_TOKEN": "m" * 24}).metrics_token == "m" * 24
    secret = tmp_path / "metrics-token"
    secret.write_text("t" * 24 + "\n", encoding="utf-8")
    assert load_settings({**GOOD, "SAMKONSULT_METRICS_TOKEN_FILE": str(secret)}).metrics_token == "t" * 24


def test_a_short_token_names_the_key() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({**GOOD, "SAMKONSULT_METRICS_TOKEN": "short"})
    assert info.value.key == "SAMKONSULT_METRICS_TOKEN"
