"""The join code message: Norwegian mobile numbers and e-mail addresses checked, addresses masked, and
a text that holds the link, the code and when it works, in bokmål or English, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduling.join_code_messages import (
    CodeInvitation,
    mask_address,
    parse_email,
    parse_mobile,
    validity_text,
)
from scheduling.models import OutboxChannel
from scheduling.outbox import hide_join_codes
from server.platform.errors import ValidationFailed

FROM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11.00 in Oslo
UNTIL = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)  # 12.30 in Oslo


@pytest.mark.parametrize(("typed", "number"), [
    ("+47 912 34 567", "+4791234567"), ("91234567", "+4791234567"), ("412 34 567", "+4741234567"),
    ("0047 41 23 45 67", "+4741234567"), ("+4791234567", "+4791234567"), ("912-34-567", "+4791234567"),
])
def test_norwegian_mobile_numbers_are_taken_with_spaces(typed: str, number: str) -> None:
    assert parse_mobile(typed) == number


@pytest.mark.parametrize("typed", ["", "812 34 567", "+47 912 34 56", "+47 912 34 5678", "+46 912 34 567",
                                   "22 33 44 55", "9123456a", "+47 +47 91234567", "١٢٣٤٥٦٧٨"])
def test_anything_else_is_refused_as_a_mobile_number(typed: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_mobile(typed)
    assert refused.value.fields == {"to": "mobile_invalid"}


def test_email_addresses() -> None:
    assert parse_email("  kari@eksempel.no ") == "kari@eksempel.no"
    for wrong in ("kari", "kari@", "kari@eksempel", "kari nordmann@eksempel.no", "a@b@c.no", "x" * 250 + "@e.no"):
        with pytest.raises(ValidationFailed):
            parse_email(wrong)


def test_addresses_are_masked_for_the_audit_log() -> None:
    assert mask_address(OutboxChannel.SMS, "+4791234123") == "+47 *** ** 123"
    assert mask_address(OutboxChannel.EMAIL, "kari@eksempel.no") == "k***@eksempel.no"


def test_when_the_code_works_is_said_the_norwegian_way() -> None:
    assert validity_text(FROM, UNTIL, "nb") == "fra tirsdag 1. desember kl. 11.00 til kl. 12.30"
    assert validity_text(FROM, UNTIL, "en") == "from Tuesday 1 December at 11:00 until 12:30 (Norwegian time)"
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # past midnight in Oslo
    assert validity_text(FROM, late, "nb") == "fra tirsdag 1. desember kl. 11.00 til onsdag 2. desember kl. 00.30"


def test_the_message_holds_link_code_time_and_service_and_nothing_more() -> None:
    invitation = CodeInvitation(code="ABCD-EFGH-JKMN-PQRS", join_url="https://samkonsult.example.no/join",
                                valid_from=FROM, valid_until=UNTIL, service_name="Helgelandssykehuset")
    sms = invitation.sms_text()
    assert sms == ("Helgelandssykehuset: Du er invitert til en videokonsultasjon. Gå til "
                   "https://samkonsult.example.no/join og skriv inn koden ABCD-EFGH-JKMN-PQRS. Koden virker "
                   "fra tirsdag 1. desember kl. 11.00 til kl. 12.30, én gang.")
    body = invitation.email_text()
    assert "https://samkonsult.example.no/join" in body and "ABCD-EFGH-JKMN-PQRS" in body
    assert "kl. 11.00" in body and invitation.email_subject() == "Koden din til videokonsultasjon (Helgelandssykehuset)"
    english = CodeInvitation(code="ABCD-EFGH-JKMN-PQRS", join_url="https://x.example/join", valid_from=FROM,
                             valid_until=UNTIL, service_name="Helgelandssykehuset", language="en")
    assert english.sms_text().startswith("Helgelandssykehuset: You are invited to a video consultation.")
    assert "Type the code: ABCD-EFGH-JKMN-PQRS" in english.email_text()


def test_codes_are_hidden_once_sent_and_from_staff() -> None:
    text = "Gå til https://x/join og skriv inn koden ABCD-EFGH-JKMN-PQRS. Ring 912 34 567."
    assert hide_join_codes(text) == "Gå til https://x/join og skriv inn koden XXXX-XXXX-XXXX-XXXX. Ring 912 34 567."
