"""SAMKONSULT_TRUSTED_PROXIES: empty trusts no forwarded header; a bad entry stops start-up by name."""

from __future__ import annotations

import pytest

from server.platform.settings import SettingsError, load_settings

GOOD = {
    "SAMKONSULT_DATABASE_URL": "sqlite+aiosqlite:///var/x.db",
    "SAMKONSULT_SESSION_SECRET": "s" * 32,
    "SAMKONSULT_TOTP_ENCRYPTION_KEY": "k" * 32,
    "SAMKONSULT_AUDIT_KEY": "a" * 32,
}


def test_no_proxy_is_trusted_unless_named() -> None:
    assert load_settings(GOOD).trusted_proxies == ()


def test_addresses_and_networks_are_read() -> None:
    settings = load_settings({**GOOD, "SAMKONSULT_TRUSTED_PROXIES": "127.0.0.1, 10.20.0.0/16,::1"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.20.0.0/16", "::1/128")


@pytest.mark.parametrize("value", ["proxy.example.no", "10.0.0.300", "*"])
def test_a_bad_entry_names_the_key(value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({**GOOD, "SAMKONSULT_TRUSTED_PROXIES": value})
    assert info.value.key == "SAMKONSULT_TRUSTED_PROXIES"
