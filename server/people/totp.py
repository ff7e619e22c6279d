"""Time-based one-time passwords (RFC 6238) with secrets encrypted at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken

ISSUER = "Samkonsult"


class TotpCipher:
    """Encrypts TOTP secrets with a key derived from the configured encryption key."""

    def __init__(self, key_material: str) -> None:
        digest = hashlib.sha256(key_material.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("ascii")).decode("ascii")

    def decrypt(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            return None


def new_secret() -> str:
    return pyotp.random_base32()


def verify_code(secret: str, code: str, at: datetime) -> bool:
    """Accept the code of the current 30 s step or one step either side (clock drift)."""
    return matching_step(secret, code, at) is not None


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step (30 s counter) whose code this is, within one step of ``at``; None if no match.

    Returning the step lets the caller refuse a code that was already used (replay).
    """
    cleaned = code.replace(" ", "").strip()
    if not cleaned.isdigit() or len(cleaned) != 6:
        return None
    otp = pyotp.TOTP(secret)
    current = otp.timecode(at)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(otp.generate_otp(step), cleaned):
            return step
    return None


def current_code(secret: str, at: datetime) -> str:
    return str(pyotp.TOTP(secret).at(at))


def provisioning_uri(secret: str, username: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER))


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no external image service sees the secret)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff"))
