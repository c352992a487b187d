"""The overview and an account's page in a real browser: the organizer reads the numbers, changes a
limit with its effect previewed, saves it; a moderator sees the same settings read only."""

from __future__ import annotations

import re

from playwright.async_api import expect

from app.auth.caller import Role
from tests.api.helpers import API
from tests.web.conftest import browser_sign_in, looked_at, make_user
from tests.web.test_overview import seeded


async def test_organizer_previews_and_saves_a_limit(tab, runtime, client, admin, pipeline):
    account = await seeded(client, admin, pipeline, runtime)
    await make_user(runtime, name="olga", role=Role.organizer, account_ids=[account["id"]])
    await make_user(runtime, name="mo", role=Role.moderator, account_ids=[account["id"]])
    page = tab.page
    await browser_sign_in(tab, "olga")
    await page.goto("/")
    await page.get_by_role("img", name=re.compile("reposts and skips per hour")).wait_for()
    await page.get_by_text("The numbers, per hour (UTC)").click()  # the table behind the chart opens
    await looked_at(tab, "overview")
    await page.get_by_role("link", name="Accounts", exact=True).click()
    await expect(page.get_by_role("link", name="Connect an account")).to_have_count(0)  # only admins connect
    await looked_at(tab, "accounts")
    await page.get_by_role("link", name="Health & settings of coffeeclub").click()
    await page.wait_for_url(f"**/accounts/{account['id']}")
    await looked_at(tab, "account")
    limits = page.locator("#limits")
    await limits.get_by_label("Most reposts per hour").fill("1")
    await limits.get_by_role("button", name="Preview the effect").click()
    effect = limits.get_by_role("status")
    await effect.get_by_text("With these settings,").wait_for()
    # four posts passed the filters at once (three reposted, one held for review): at most 1 an hour delays three
    await expect(effect).to_contain_text("2 of the last 6 matches would have been skipped, 3 delayed")
    await expect(effect.get_by_role("cell", name=re.compile("sent after"))).to_have_count(3)
    await looked_at(tab, "account-preview")
    await limits.get_by_role("button", name="Save limits").click()
    await page.get_by_text("Limits saved.").wait_for()
    await expect(page.get_by_label("Most reposts per hour")).to_have_value("1")
    read = await client.get(f"{API}/accounts/{account['id']}", headers=admin)
    assert read.json()["limits"]["max_per_hour"] == 1
    await page.get_by_label("Time zone").fill("Mars/Olympus")
    await page.get_by_role("button", name="Save limits").click()
    await expect(page.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text("Not saved: fix the field marked below.")).to_be_visible()
    tab.problems.clear()  # the browser logs the 422 of that answer as a console error
    await looked_at(tab, "account-refused")
    await page.get_by_role("button", name="Sign out").click()
    await browser_sign_in(tab, "mo")
    await page.goto(f"/accounts/{account['id']}")
    await page.get_by_text("an organizer or an admin changes them").wait_for()
    assert await page.locator("form#limits").count() == 0
    await looked_at(tab, "account-moderator")
