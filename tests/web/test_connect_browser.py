"""Connecting an account in a real browser: the organizer's mock account through the form, and
every connect page looked at (axe, console, phone width)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.auth.caller import Role
from app.models import Account
from tests.api.helpers import make_account
from tests.web.conftest import browser_sign_in, looked_at, make_user


async def test_an_organizer_connects_a_mock_account_in_the_browser(tab, runtime, client, admin):
    first = await make_account(client, admin, handle="first")
    await make_user(runtime, name="olga", role=Role.organizer, account_ids=[first["id"]])
    await browser_sign_in(tab, "olga")
    page = tab.page
    await page.goto("/accounts/new")
    await looked_at(tab, "connect-new")
    await page.get_by_role("link", name="Connect a mock account").click()
    await page.wait_for_url("**/accounts/new/mock")
    await looked_at(tab, "connect-mock")

    await page.get_by_role("button", name="Connect").click()  # no handle yet
    await page.get_by_text("type a handle").wait_for()
    assert await page.get_by_label("Handle").get_attribute("aria-invalid") == "true"
    tab.problems.clear()  # the browser logs the 422 of that answer as a console error
    await looked_at(tab, "connect-mock-error")

    await page.get_by_label("Handle").fill("uni_news")
    await page.get_by_role("button", name="Connect").click()
    await page.wait_for_url(re.compile(r"/accounts/\d+$"))
    await page.get_by_text("uni_news").first.wait_for()  # the account's page, with the note
    async with runtime.sessions() as session:
        account = (await session.execute(select(Account).where(Account.handle == "uni_news"))).scalar_one()
    assert account.platform == "mock" and page.url.endswith(f"/accounts/{account.id}")


async def test_every_connect_page_passes_the_checks(tab, runtime):
    await make_user(runtime, name="ana")
    await browser_sign_in(tab, "ana")
    page = tab.page
    for platform in ("mastodon", "bluesky", "x"):
        await page.goto(f"/accounts/new/{platform}")
        await looked_at(tab, f"connect-{platform}")

    await page.goto("/accounts/new/mastodon")
    await page.get_by_label("Server").fill("not a server")
    await page.get_by_role("button", name="Sign in on the server").click()
    await page.get_by_text("is not a server address").wait_for()
    tab.problems.clear()  # the 422 answer, logged by the browser
    await looked_at(tab, "connect-mastodon-error")

    await page.goto("/connect/mastodon/callback?code=abc&state=forged")  # no sign-in was started here
    await page.get_by_role("heading", name="No sign-in in progress").wait_for()
    tab.problems.clear()  # the 400 answer
    await looked_at(tab, "connect-failed")
    await page.get_by_role("link", name="Connect a Mastodon account again").click()
    await page.wait_for_url("**/accounts/new/mastodon")
