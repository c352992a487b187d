"""Signing in through a real browser (Debian's Chromium under Playwright)."""

from __future__ import annotations

from tests.web.conftest import browser_sign_in, looked_at, make_user


async def test_sign_in_and_out_in_the_browser(tab, runtime):
    await make_user(runtime, name="ana")
    page = tab.page
    await page.goto("/")
    await page.wait_for_url("**/signin?next=/")
    await looked_at(tab, "signin")
    await page.get_by_label("Name").fill("ana")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("wrong name or password").wait_for()
    tab.problems.clear()  # the browser logs the 401 of that answer as a console error
    await browser_sign_in(tab, "ana")
    await page.goto("/me")
    await looked_at(tab, "me")
    await page.goto("/accounts/999999")  # an error is a page too, that says what to do
    await page.get_by_text("not found").first.wait_for()
    tab.problems.clear()  # the browser logs the 404 as a console error
    await looked_at(tab, "error-404")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_text("You are signed out.").wait_for()
