"""The admin's journey in the browser: invite a moderator, who signs in with the link."""

from __future__ import annotations

from app.auth.caller import Role
from tests.api.helpers import make_account
from tests.web.conftest import Tab, browser_sign_in, looked_at, make_user


async def test_the_admin_invites_a_moderator_who_joins_with_the_link(tab, runtime, client, admin, browser):
    account = await make_account(client, admin)
    await make_user(runtime, name="boss", role=Role.admin)
    page = tab.page
    await browser_sign_in(tab, "boss")
    await page.get_by_role("link", name="People").click()
    await looked_at(tab, "admin-people")
    await page.get_by_label("Role").select_option("moderator")
    await page.get_by_label("coffeeclub").check()
    await page.get_by_label("Note (for you)").fill("Dee from the club")
    await page.get_by_role("button", name="Make an invitation link").click()
    link = await page.get_by_label("Invitation link").input_value()
    await looked_at(tab, "admin-invite-made")
    await page.goto("/tokens")
    await looked_at(tab, "admin-tokens")
    await page.goto("/admin/people")
    await page.get_by_role("link", name="Edit boss").click()
    await page.get_by_role("heading", name="boss").wait_for()
    await looked_at(tab, "admin-person")

    guest = await browser.new_context(viewport={"width": 390, "height": 844})
    other = await guest.new_page()
    problems: list[str] = []
    other.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await other.goto(link)
    await looked_at(Tab(other, problems, tab.base), "invite-accept")
    await other.get_by_label("Name").fill("Dee")
    await other.get_by_label("Password", exact=True).fill("a long password")
    await other.get_by_label("Password again").fill("a long password")
    await other.get_by_role("button", name="Join").click()
    await other.get_by_text("Welcome, Dee").wait_for()
    assert await other.get_by_role("link", name="Tokens").count() == 0  # a moderator: no admin pages
    assert account["handle"] in await other.content()
    await guest.close()
