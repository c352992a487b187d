"""The moderator's journey in a real browser: approve two posts from the review queue with the keyboard,
then watch a repost appear in the activity log without reloading."""

from __future__ import annotations

import re

from app.auth.caller import Role
from tests.api.helpers import actions, ingest, make_account, make_rule, world
from tests.web.conftest import browser_sign_in, looked_at, make_user

# how a row says its undo was asked for: a badge beside `done`, or the status `undoing` where that exists
UNDO_ASKED = re.compile(r"^(undo requested|undoing)$")


async def test_moderator_approves_two_with_the_keyboard_and_sees_a_repost_arrive(tab, runtime, client, admin, pipeline):
    world().add_author("alice", followers_count=321, display_name="Alice Barista", bio="Latte art every morning")
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#latteart", review=True, name="Latte art")
    await make_rule(client, admin, account["id"], "#coffee", name="Coffee")
    await ingest(client, admin, [world().publish("alice", f"swan number {n} #latteart", media_count=1)
                                 for n in range(3)])
    await pipeline.tick(poll=False)
    first, second, third = sorted(a["id"] for a in await actions(client, admin, account["id"], status="review"))
    await make_user(runtime, name="mo", role=Role.moderator, account_ids=[account["id"]])
    page = tab.page
    await browser_sign_in(tab, "mo")

    await page.goto(f"/accounts/{account['id']}/review")
    await looked_at(tab, "review-queue")
    await page.keyboard.press("j")
    await page.keyboard.press("a")
    await page.locator(f"#card-{first}").wait_for(state="detached")
    await page.get_by_role("status").filter(has_text="Approved the post by @alice").wait_for()
    # the next card took the focus; j moves on to the third and a approves it
    await page.keyboard.press("j")
    await page.keyboard.press("a")
    await page.locator(f"#card-{third}").wait_for(state="detached")
    assert await page.locator(".review-card").count() == 1 and await page.locator(f"#card-{second}").is_visible()
    # typing in a field is typing: `a` in the reason field approves nothing
    await page.locator(f"#reason-{second}").fill("")
    await page.locator(f"#reason-{second}").press("a")
    assert await page.locator(f"#card-{second}").is_visible()
    statuses = {a["id"]: a["status"] for a in await actions(client, admin, account["id"])}
    assert (statuses[first], statuses[second], statuses[third]) == ("queued", "review", "queued")

    await page.goto(f"/accounts/{account['id']}/activity")
    await looked_at(tab, "activity")
    fresh = world().publish("alice", "cortado time #coffee")
    await ingest(client, admin, [fresh])
    await pipeline.tick(poll=False)  # the page polls meanwhile: the repost (and the two approved) appear
    row = page.locator("tr.new", has_text="cortado time #coffee")
    await row.wait_for(timeout=15_000)
    assert await row.locator(".badge").first.inner_text() == "done"
    await page.get_by_role("status").filter(has_text="new action").wait_for()
    # a ticked row stays ticked while the rows refresh, and "Undo selected" asks for its undo
    pick = row.locator("input[type=checkbox]")
    await pick.check()
    await page.evaluate("new Promise(done => document.addEventListener('htmx:afterSettle', done, {once: true}))")
    assert await page.locator("tr", has_text="cortado time #coffee").locator("input[type=checkbox]").is_checked()
    await page.get_by_role("button", name="Undo selected").click()
    await page.get_by_text("Undo requested for action").wait_for()
    [undo] = [a for a in await actions(client, admin, account["id"]) if a["post_id"] == fresh.id]
    badge = page.locator("tr", has_text="cortado time #coffee").locator(".badge", has_text=UNDO_ASKED)
    assert undo["undo_requested_at"] and await badge.count() == 1
    await looked_at(tab, "activity-undo-requested")
