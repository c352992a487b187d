"""The organizer's piece of the journey in a real browser: write a rule with a mistake, see it marked
while typing, fix it, try it on a post and on recent posts, save it, see it in the list, switch it off."""

from __future__ import annotations

import re

from app.auth.caller import Role
from tests.api.helpers import API, ingest, make_account, world
from tests.web.conftest import browser_sign_in, looked_at, make_user


async def test_an_organizer_writes_a_rule_with_a_mistake_fixes_it_and_saves_it(tab, client, admin, runtime):
    w = world()
    w.add_author("fan", display_name="A Fan", followers_count=40)
    w.add_author("stranger", followers_count=3)
    w.follow("fan", "uni_news")
    account = await make_account(client, admin, handle="uni_news", display_name="University News")
    await ingest(client, admin, [w.publish("fan", "Exams start Monday #uni_news", lang="en"),
                                 w.publish("stranger", "Anyone selling exams notes? #uni_news", lang="en")])
    await make_user(runtime, name="olga", role=Role.organizer, account_ids=[account["id"]])
    page = tab.page
    await browser_sign_in(tab, "olga")

    await page.goto(f"/accounts/{account['id']}/rules")
    await page.get_by_role("link", name="New rule").click()
    await page.wait_for_url(re.compile(r"/rules/new$"))
    await page.wait_for_load_state()  # htmx is loaded (deferred) and watches the query field
    await page.get_by_label("Name", exact=True).fill("Exam news")
    query = page.get_by_role("textbox", name="Query", exact=True)
    await query.fill("#uni_news (exams OR")  # a mistake: OR with nothing after it
    marked = page.locator("#query-check mark")
    await marked.wait_for()
    assert await marked.text_content() == "OR"
    assert "OR needs a term on both sides" in await page.locator("#query-check").inner_text()
    assert await query.get_attribute("aria-invalid") == "true"
    await page.get_by_label("Whose posts (scope)").fill("followers")
    await page.get_by_role("button", name="Save rule").click()  # saved anyway: refused, shown again
    await page.get_by_text("The rule is not saved: 1 field to fix below.").wait_for()
    tab.problems.clear()  # the browser logs the 422 of that answer as a console error
    assert await page.locator("#query-check mark").text_content() == "OR"
    assert await page.evaluate("document.activeElement.id") == "f-query"  # the keyboard is taken to the fault
    await page.get_by_role("button", name="Preview the last 24 h").click()  # with the mistake: said under it
    await page.locator("#preview-result").get_by_text("OR needs a term on both sides").wait_for()
    tab.problems.clear()  # the 422 again
    await looked_at(tab, "rules-editor-error")

    await query.fill("#uni_news (exams OR lectures)")
    await page.locator("#query-check [data-valid='true']").wait_for()
    assert await query.get_attribute("aria-invalid") is None
    await page.get_by_label("Post text").fill("Exams start Monday #uni_news")
    await page.get_by_label("Author handle").fill("fan")
    await page.get_by_role("button", name="Explain").click()
    await page.locator("#explain-result").get_by_text("Matches").wait_for()
    await page.get_by_role("button", name="Preview the last 24 h").click()
    summary = page.locator("#preview-result .summary")
    await summary.wait_for()
    assert await summary.inner_text() == ("In the last 24 h this rule would have reposted 1 and skipped 1: "
                                          "1 not a follower.")
    await looked_at(tab, "rules-preview")

    await page.get_by_role("button", name="Save rule").click()
    await page.wait_for_url(re.compile(rf"/accounts/{account['id']}/rules$"))
    await page.get_by_text("Rule “Exam news” is saved.").wait_for()
    switch = page.get_by_role("switch", name="Rule Exam news")
    assert await switch.get_attribute("aria-checked") == "true"
    await looked_at(tab, "rules-list")
    await switch.click()
    await page.get_by_role("status").get_by_text("Rule “Exam news” is off.").wait_for()
    assert await page.evaluate("document.activeElement.getAttribute('role')") == "switch"  # focus stays on it
    assert await page.get_by_role("switch", name="Rule Exam news").get_attribute("aria-checked") == "false"
    [rule] = (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"]
    assert (rule["query"], rule["scope"], rule["enabled"]) == ("#uni_news (exams OR lectures)", "followers", False)

    await page.get_by_role("link", name="Exam news").click()
    await page.get_by_role("link", name="Delete…").click()
    await page.get_by_role("button", name="Delete the rule").wait_for()
    await looked_at(tab, "rules-delete")
    await page.get_by_role("button", name="Delete the rule").click()
    await page.get_by_text("Rule “Exam news” is deleted.").wait_for()
    assert (await client.get(f"{API}/accounts/{account['id']}/rules", headers=admin)).json()["items"] == []
