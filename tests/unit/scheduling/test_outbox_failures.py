"""Why a message was not sent, as the code people read worded: each kind of failure gets its own."""

from __future__ import annotations

import aiosmtplib
import pytest

from scheduling.models import OutboxChannel
from scheduling.outbox import FAILURES, failure_code, no_gateway_failure
from web import i18n, labels


@pytest.mark.parametrize(("exc", "code"), [
    (aiosmtplib.SMTPRecipientsRefused([]), "recipient_refused"),
    (aiosmtplib.SMTPRecipientRefused(550, "no such user", "x@example.no"), "recipient_refused"),
    (aiosmtplib.SMTPAuthenticationError(535, "bad login"), "authentication"),
    (aiosmtplib.SMTPConnectTimeoutError("timed out connecting"), "timeout"),
    (aiosmtplib.SMTPTimeoutError("timed out"), "timeout"),
    (aiosmtplib.SMTPConnectError("refused"), "unreachable"),
    (aiosmtplib.SMTPServerDisconnected("gone"), "unreachable"),
    (ConnectionRefusedError("down"), "unreachable"),
    (aiosmtplib.SMTPDataError(554, "spam"), "refused"),
    (RuntimeError("anything else"), "delivery_failed"),
])
def test_each_failure_has_its_code(exc: BaseException, code: str) -> None:
    assert failure_code(exc) == code


def test_every_code_is_worded_in_bokmal() -> None:
    i18n.load_catalogues()
    i18n.set_language("nb")
    try:
        worded = {code: labels.outbox_failure_label(code) for code in FAILURES}
        english = {code: labels._OUTBOX_FAILURES[code] for code in FAILURES}
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)
    assert all(worded[code] and worded[code] != english[code] for code in FAILURES), worded
    assert {no_gateway_failure(OutboxChannel.EMAIL), no_gateway_failure(OutboxChannel.SMS)} <= FAILURES
    assert labels.outbox_failure_label("") == ""
