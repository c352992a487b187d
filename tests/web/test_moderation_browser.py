"""The moderator blocks an author with undo in a real browser: types the handle, sees who it is and
what the block will undo, confirms, and sees the undos on the author page and in the audit log."""

from __future__ import annotations

import re

from app.auth.caller import Role
from tests.web.conftest import browser_sign_in, looked_at, make_user
from tests.web.test_moderation import coffee_account


async def test_the_moderator_blocks_an_author_and_undoes_their_reposts(tab, runtime, client, admin, pipeline):
    account = await coffee_account(client, admin, pipeline)
    await make_user(runtime, name="mo", role=Role.moderator, account_ids=[account["id"]])
    await browser_sign_in(tab, "mo")
    page = tab.page
    await page.goto(f"/accounts/{account['id']}/people")
    await looked_at(tab, "moderation-people")

    await page.get_by_label("Who").fill("@alice")
    await page.get_by_label("Reason (blocks)").fill("spam in the tag")
    await page.get_by_role("button", name="Look them up").click()
    await page.get_by_role("heading", name="Block alice?").wait_for()
    assert await page.locator("img.avatar").is_visible()
    assert await page.get_by_text("Alice Liddell").is_visible()
    assert await page.get_by_text("will undo 2 reposts").is_visible()
    await looked_at(tab, "moderation-confirm")

    await page.get_by_label("Undo their earlier reposts").check()
    await page.get_by_role("button", name="Block alice").click()
    await page.wait_for_url(re.compile(r"/authors/"))
    await page.get_by_text("Undo requested for 2 earlier reposts").wait_for()
    assert await page.get_by_text("undo requested", exact=True).count() == 2
    assert await page.get_by_text("blocked", exact=True).is_visible()
    await looked_at(tab, "moderation-author")

    await pipeline.tick(poll=False)  # the undo job removes them on the platform
    await page.reload()
    assert await page.get_by_text("undone", exact=True).count() == 2
    await page.goto("/audit")
    await page.locator(".entry", has_text="blocked an author").wait_for()
    await looked_at(tab, "audit")
    await page.goto(f"/accounts/{account['id']}/people")
    await page.get_by_role("button", name="Unblock alice").wait_for()
    await looked_at(tab, "moderation-people-listed")
