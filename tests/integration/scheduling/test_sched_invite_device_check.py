"""Invitations carry the absolute link to the device check; a cancellation does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduling.services.factory import SchedulingServices
from server.platform.clock import FixedClock
from server.platform.db import Database
from tests.integration.scheduling.conftest import World
from tests.integration.scheduling.test_sched_invites import Inbox, dispatcher, free_port, joint, start_smtp

CHECK_URL = "https://samkonsult.example.no/check"


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, int]]:
    port = free_port()
    controller, inbox = start_smtp(port)
    yield inbox, port
    controller.stop()


def _texts(inbox: Inbox, address: str) -> list[str]:
    texts = []
    for rcpts, msg in inbox.messages:
        if address in rcpts:
            for part in msg.walk():
                if part.get_content_type() == "text/plain":
                    texts.append(part.get_payload(decode=True).decode("utf-8"))
    return texts


async def test_the_invitation_links_to_the_device_check(
        db: Database, services: SchedulingServices, world: World, clock: FixedClock,
        mail: tuple[Inbox, int]) -> None:
    inbox, port = mail
    coordinator = world.actors["koordinator"]
    async with db.session(write_lock=True) as session:
        view = await services.bookings.book(session, coordinator, joint(world))
    async with db.session() as session:
        await services.bookings.cancel(session, coordinator, view.public_id, "Flyttet til neste uke")
    await dispatcher(db, clock, port).dispatch_due()
    invitation, cancellation = _texts(inbox, "ingrid.hansen@example.no")
    assert f"Sjekk kamera, mikrofon og nettverk før samtalen: {CHECK_URL}" in invitation
    assert CHECK_URL in invitation.split("Check your camera")[1]
    assert CHECK_URL not in cancellation
