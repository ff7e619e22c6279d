"""The three-person consultation of test_call_consultation, the server forwarding RTP packets.

``SAMKONSULT_MEDIA_FORWARDING=packets``: each publisher's RTP packets are rewritten per recipient and
sent on as they arrive (rooms.media.forwarded_stream) instead of being assembled into frames and
re-packetized. Chromium must decode every stream (tiles with a picture whose frames keep coming),
also after the exam camera and screen are added, a participant rejoins and a socket is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.support import TotpSecrets
from tests.browser.test_call_consultation import test_three_people_hold_a_consultation, three
from tests.serverproc import Server, ServerError, running_server

pytestmark = pytest.mark.browser

__all__ = ["test_three_people_hold_a_consultation", "three"]  # collected here against this module's server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo server forwarding packets (frames stay the default)."""
    try:
        with running_server(tmp_path_factory.mktemp("packets-server"),
                            SAMKONSULT_MEDIA_FORWARDING="packets") as running:
            yield running
    except ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def totp_secrets() -> TotpSecrets:
    """The users enrol afresh on this module's server."""
    return TotpSecrets()
