"""Production settings: demo mode stays on this machine, and no secret demo mode made is used outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.platform.settings import SettingsError, load_settings

DB = {"SAMKONSULT_DATABASE_URL": "sqlite+aiosqlite:///var/x.db"}


def _demo(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**DB, "SAMKONSULT_DEMO_MODE": "true", "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp_path / "demo.json"),
            **extra}


def test_demo_mode_on_loopback_starts(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        assert load_settings(_demo(tmp_path, SAMKONSULT_HOST=host)).demo_mode


@pytest.mark.parametrize(("key", "value"), [("SAMKONSULT_HOST", "0.0.0.0"), ("SAMKONSULT_HOST", "10.2.3.4"),
                                            ("SAMKONSULT_PUBLIC_URL", "https://samkonsult.helse-nord.example.no")])
def test_demo_mode_on_an_address_others_reach_is_refused(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_demo(tmp_path, **{key: value}))
    assert info.value.key == "SAMKONSULT_DEMO_MODE"
    assert key in str(info.value)


@pytest.mark.parametrize("name", ["SAMKONSULT_SESSION_SECRET", "SAMKONSULT_TOTP_ENCRYPTION_KEY",
                                  "SAMKONSULT_AUDIT_KEY"])
def test_production_refuses_a_secret_demo_mode_generated(tmp_path: Path, name: str) -> None:
    demo = load_settings(_demo(tmp_path))  # writes the demo secrets file, as `make run` does
    own = {"SAMKONSULT_SESSION_SECRET": "a" * 40, "SAMKONSULT_TOTP_ENCRYPTION_KEY": "b" * 40,
           "SAMKONSULT_AUDIT_KEY": "c" * 40}
    production = {**DB, "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp_path / "demo.json"), **own}
    assert not load_settings(production).demo_mode
    copied = {"SAMKONSULT_SESSION_SECRET": demo.session_secret,
              "SAMKONSULT_TOTP_ENCRYPTION_KEY": demo.totp_encryption_key,
              "SAMKONSULT_AUDIT_KEY": demo.audit_key}[name]
    with pytest.raises(SettingsError) as info:
        load_settings({**production, name: copied})
    assert info.value.key == name and "demo secret" in str(info.value)


def test_production_refuses_the_demo_secrets_file_as_a_secret_file(tmp_path: Path) -> None:
    load_settings(_demo(tmp_path))
    env = {**DB, "SAMKONSULT_DEMO_SECRETS_FILE": str(tmp_path / "demo.json"),
           "SAMKONSULT_SESSION_SECRET_FILE": str(tmp_path / "demo.json"), "SAMKONSULT_TOTP_ENCRYPTION_KEY": "b" * 40,
           "SAMKONSULT_AUDIT_KEY": "c" * 40}
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert info.value.key == "SAMKONSULT_SESSION_SECRET"
