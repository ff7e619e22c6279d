"""The outbox's SMS channel: an HTTP SMS gateway that takes one JSON message per POST.

It lives in the composition root because it speaks HTTP with aiohttp, which the domains do not
import; the outbox only knows it as a ``MessageSender``. The request is::

    POST <sms_gateway_url>
    Authorization: Bearer <sms_gateway_token>
    {"to": "+4791234567", "from": "<sms_sender>", "message": "<text>", "reference": "outbox-<id>"}

Any 2xx answer means the gateway took the message. Anything else, a timeout or a refused connection
raises, and the outbox dispatcher tries again later with its backoff. The message text is never
logged (it may hold a join code); the gateway's answer is quoted only in its first 200 characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from scheduling.outbox import OutgoingMessage


class SmsGatewayError(Exception):
    """The gateway did not accept the message."""


@dataclass(frozen=True)
class SmsGatewaySettings:
    url: str
    token: str = ""
    sender: str = "Samkonsult"
    timeout_seconds: float = 20.0


class HttpSmsSender:
    """Delivers SMS rows of the outbox to the configured gateway."""

    def __init__(self, settings: SmsGatewaySettings) -> None:
        self._settings = settings

    async def send(self, message: OutgoingMessage) -> None:
        s = self._settings
        headers = {"Accept": "application/json"}
        if s.token:
            headers["Authorization"] = f"Bearer {s.token}"
        payload = {"to": message.recipient, "from": s.sender, "message": message.body,
                   "reference": f"outbox-{message.id}"}
        timeout = aiohttp.ClientTimeout(total=s.timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.post(s.url, json=payload, headers=headers) as response:
            if not 200 <= response.status < 300:
                answer = (await response.text())[:200]
                raise SmsGatewayError(f"the SMS gateway answered {response.status}: {answer}")
