"""Every ``SAMKONSULT_*`` name the README and the deployment samples tell an operator to set exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.platform.settings import _NOT_SETTINGS, _SECRET_KEYS, ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"\bSAMKONSULT_[A-Z0-9_]*[A-Z0-9]\b")
# Read by the test harness or the development commands, never by an installed server.
_DEVELOPMENT_ONLY = {"SAMKONSULT_DEMO_SECRETS_FILE", "SAMKONSULT_TEST_POSTGRES_URL"}


def _known() -> set[str]:
    names = {ENV_PREFIX + field.upper() for field in Settings.__dataclass_fields__}
    names |= {ENV_PREFIX + key.upper() + "_FILE" for key in _SECRET_KEYS}
    return names | _NOT_SETTINGS | _DEVELOPMENT_ONLY


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:] if end < 0 else text[start:end]


DOCUMENTS = ["README.md", "docs/deploy/nginx.conf", "docs/deploy/Caddyfile", "docs/deploy/turnserver.conf"]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_setting_named_exists(document: str) -> None:
    named = set(_NAME.findall((ROOT / document).read_text(encoding="utf-8")))
    assert named - _known() == set()


def test_the_health_trust_section_names_the_settings_it_is_about() -> None:
    section = _section((ROOT / "README.md").read_text(encoding="utf-8"), "## Running it for a health trust")
    named = set(_NAME.findall(section))
    assert named <= _known()
    assert not named & _DEVELOPMENT_ONLY  # an operator never needs these
    for needed in ("SAMKONSULT_DATABASE_URL", "SAMKONSULT_SESSION_SECRET_FILE", "SAMKONSULT_TOTP_ENCRYPTION_KEY_FILE",
                   "SAMKONSULT_AUDIT_KEY_FILE", "SAMKONSULT_AUDIT_CHECKPOINT_FILE",
                   "SAMKONSULT_AUDIT_CHECKPOINT_MINUTES",
                   "SAMKONSULT_PUBLIC_URL", "SAMKONSULT_SMTP_HOST", "SAMKONSULT_SMS_GATEWAY_URL",
                   "SAMKONSULT_ICE_SERVERS", "SAMKONSULT_TURN_SECRET_FILE"):
        assert needed in named
    # A name that is not a setting is caught (the check can fail).
    assert "SAMKONSULT_SMTP_SERVER" not in _known()
