"""The SMS gateway settings: a URL (https unless on this machine), a secret token, a sender name."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.platform.settings import SettingsError, load_settings

BASE = {
    "SAMKONSULT_DATABASE_URL": "sqlite+aiosqlite:///var/x.db",
    "SAMKONSULT_SESSION_SECRET": "s" * 32,
    "SAMKONSULT_TOTP_ENCRYPTION_KEY": "k" * 32,
    "SAMKONSULT_AUDIT_KEY": "a" * 32,
}


def test_no_gateway_by_default() -> None:
    settings = load_settings(BASE)
    assert settings.sms_gateway_url == "" and settings.sms_sender == "Samkonsult"
    assert settings.service_name == "Samkonsult"


def test_a_gateway_with_its_token_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "sms-token"
    token_file.write_text("secret-token\n", encoding="utf-8")
    settings = load_settings({**BASE, "SAMKONSULT_SMS_GATEWAY_URL": "https://sms.example.no/v1/messages",
                              "SAMKONSULT_SMS_GATEWAY_TOKEN_FILE": str(token_file),
                              "SAMKONSULT_SERVICE_NAME": "Helgelandssykehuset"})
    assert settings.sms_gateway_token == "secret-token" and settings.service_name == "Helgelandssykehuset"


@pytest.mark.parametrize("url", ["sms.example.no/send", "ftp://sms.example.no", "http://sms.example.no/send"])
def test_a_bad_or_cleartext_gateway_url_stops_start_up(url: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({**BASE, "SAMKONSULT_SMS_GATEWAY_URL": url, "SAMKONSULT_SMS_GATEWAY_TOKEN": "t"})
    assert refused.value.key == "SAMKONSULT_SMS_GATEWAY_URL"


def test_a_gateway_on_this_machine_may_use_plain_http() -> None:
    settings = load_settings({**BASE, "SAMKONSULT_SMS_GATEWAY_URL": "http://127.0.0.1:9000/sms",
                              "SAMKONSULT_SMS_GATEWAY_TOKEN": "t"})
    assert settings.sms_gateway_url == "http://127.0.0.1:9000/sms"
