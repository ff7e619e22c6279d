"""The accessibility check itself: it must see violations, or every clean result means nothing."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.support import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_axe_reports_violations_readably(page: Page) -> None:
    await page.set_content('<!doctype html><html><head><title>t</title></head><body><main>'
                           '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                           '<input id="x" type="text"></main></body></html>')
    with pytest.raises(AssertionError) as failure:
        await assert_accessible(page)
    message = str(failure.value)
    for rule in ("html-has-lang", "image-alt", "label"):
        assert rule in message, message
    assert "<img" in message, message
    assert "Fix" in message, message  # axe's own advice on each node
