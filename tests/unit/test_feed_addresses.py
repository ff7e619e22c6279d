"""Which addresses a calendar feed may come from, and the allow-list setting that names a trust's own
calendar server (the network side is in tests/security/test_calendar_feed_ssrf.py)."""

from __future__ import annotations

import ipaddress

import pytest

from scheduling.calendar_fetch import CalendarFetchError, check_feed_url, redact_feed_url
from scheduling.feed_addresses import FeedAddressPolicy, is_public_address
from server.platform.settings import SettingsError, load_settings

NOT_PUBLIC = ["127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "192.168.10.1", "100.64.0.1",
              "169.254.169.254", "224.0.0.1", "0.0.0.0", "255.255.255.255", "192.0.2.7", "::1", "::",
              "fd00::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1",
              "64:ff9b::a00:1", "2002:a00:1::1"]
PUBLIC = ["8.8.8.8", "151.101.1.1", "2a00:1450:4001::1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
    assert not FeedAddressPolicy().address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert FeedAddressPolicy().address_allowed(ipaddress.ip_address(address))


def test_the_allow_list_lets_in_exactly_what_it_names() -> None:
    policy = FeedAddressPolicy.from_entries(["Kalender.HF.example.no.", "10.20.0.0/16", " "])
    assert policy.host_allowed("kalender.hf.example.no") and not policy.host_allowed("hf.example.no")
    assert policy.address_allowed(ipaddress.ip_address("10.20.3.4"))
    assert policy.address_allowed(ipaddress.ip_address("::ffff:10.20.3.4"))
    assert not policy.address_allowed(ipaddress.ip_address("10.21.0.1"))
    with pytest.raises(ValueError):
        FeedAddressPolicy.from_entries(["https://kalender.hf.example.no"])


@pytest.mark.parametrize(("url", "code"), [
    ("ftp://kalender.example.no/a.ics", "calendar.fetch_url"),
    ("kalender.example.no/a.ics", "calendar.fetch_url"),
    ("http://kalender.example.no:99999/a.ics", "calendar.fetch_url"),
    ("https://ola:pw@kalender.example.no/a.ics", "calendar.fetch_credentials"),
    ("https://ola@kalender.example.no/a.ics", "calendar.fetch_credentials"),
    ("http://127.0.0.1:8080/metrics", "calendar.fetch_refused"),
    ("http://[::1]/", "calendar.fetch_refused"),
    ("http://localhost/", "calendar.fetch_refused"),
    ("http://api.localhost./", "calendar.fetch_refused"),
])
def test_feed_urls_refused_before_any_lookup(url: str, code: str) -> None:
    with pytest.raises(CalendarFetchError) as refused:
        check_feed_url(url, FeedAddressPolicy())
    assert refused.value.code == code


def test_a_public_name_passes_the_first_check_and_credentials_are_redacted() -> None:
    assert check_feed_url(" https://kalender.example.no/a.ics ", FeedAddressPolicy()) == \
        "https://kalender.example.no/a.ics"
    assert redact_feed_url("https://ola:pw@kalender.example.no/a.ics") == "https://kalender.example.no/a.ics"


def test_the_setting_is_read_as_a_list_and_checked() -> None:
    env = {"SAMKONSULT_DATABASE_URL": "sqlite+aiosqlite:///x.db", "SAMKONSULT_SESSION_SECRET": "s" * 32,
           "SAMKONSULT_TOTP_ENCRYPTION_KEY": "t" * 32,
           "SAMKONSULT_AUDIT_KEY": "a" * 32}
    settings = load_settings({**env, "SAMKONSULT_CALENDAR_FEED_ALLOWED_HOSTS": "kalender.hf.example.no, 10.20.0.0/16"})
    assert settings.calendar_feed_allowed_hosts == ("kalender.hf.example.no", "10.20.0.0/16")
    with pytest.raises(SettingsError, match="CALENDAR_FEED_ALLOWED_HOSTS"):
        load_settings({**env, "SAMKONSULT_CALENDAR_FEED_ALLOWED_HOSTS": "https://kalender.hf.example.no"})
