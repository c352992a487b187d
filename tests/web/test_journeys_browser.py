"""The organizer's journey (../shared/journeys.md 1) in a real browser, start to finish: sign in,
connect a mock account, write a rule with a mistake, see it marked, fix it, save it, and watch the
first repost (and a skip that says why) appear in the live activity log."""

from __future__ import annotations

import re

from app.auth.caller import Role
from tests.api.helpers import ingest, world
from tests.web.conftest import browser_sign_in, looked_at, make_user


async def test_the_organizers_first_hour(tab, runtime, client, admin, pipeline):
    await make_user(runtime, name="olga", role=Role.organizer, account_ids=[])  # no account yet
    page = tab.page
    await browser_sign_in(tab, "olga")
    await looked_at(tab, "journey-overview-empty")

    # connect the community account
    await page.goto("/accounts/new")
    await page.get_by_role("link", name="Connect a mock account").click()
    await page.get_by_label("Handle").fill("uni_news")
    await page.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/accounts/\d+$"))
    account_id = int(page.url.rsplit("/", 1)[1])
    await looked_at(tab, "journey-account")

    # one rule: a mistake first, marked as it is typed, then fixed
    await page.get_by_role("link", name="Rules", exact=True).click()
    await page.get_by_role("link", name="New rule").click()
    await page.wait_for_load_state()
    await page.get_by_label("Name", exact=True).fill("Community")
    query = page.get_by_role("textbox", name="Query", exact=True)
    await query.fill('#uni_news -"')
    await page.locator("#query-check mark").wait_for()
    await looked_at(tab, "journey-rule-mistake")
    await query.fill("#uni_news")
    await page.locator("#query-check [data-valid='true']").wait_for()
    await page.get_by_label("Whose posts (scope)").fill("followers")
    await page.get_by_role("button", name="Save rule").click()
    await page.get_by_text("Rule “Community” is saved.").wait_for()

    # students post; the live log shows the repost and why the stranger's post was not reposted
    await page.get_by_role("link", name="Activity").click()
    await page.wait_for_url(f"**/accounts/{account_id}/activity")
    w = world()
    w.add_author("student", followers_count=120)
    w.add_author("stranger", followers_count=80)
    w.follow("student", "uni_news")
    await ingest(client, admin, [w.publish("student", "Library open till midnight #uni_news"),
                                 w.publish("stranger", "Buy my notes #uni_news")])
    await pipeline.tick(poll=False)
    reposted = page.locator("tr", has_text="Library open till midnight")
    await reposted.locator(".badge", has_text="done").wait_for(timeout=15_000)
    skipped = page.locator("tr", has_text="Buy my notes")
    await skipped.get_by_text("not a follower").wait_for(timeout=15_000)
    await looked_at(tab, "journey-activity")
    # and on the platform: the student's post is reposted by @uni_news, the stranger's is not
    student_post = next(p for p in w.posts if "Library" in p.text)
    stranger_post = next(p for p in w.posts if "Buy my notes" in p.text)
    assert ("uni_news", student_post.id) in w.reposts and ("uni_news", stranger_post.id) not in w.reposts
