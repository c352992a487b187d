"""The rules pages over HTTP: the list and its switches and counts, the editor and its checks, explain,
preview, delete; a moderator's session cannot change rules, nor anyone reach another account's."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from app.auth.caller import Role
from app.db.base import utcnow
from app.db.session import transaction
from app.models import Action, SeenPost
from tests.api.helpers import API, ingest, make_account, make_rule, world

HX = {"HX-Request": "true"}


def _rule_form(**fields) -> dict:
    values = {"name": "uni", "query": "#uni_news", "scope": "followers", "action": "repost", "quote_template": "",
              "priority": "0", "enabled": "on", **fields}
    return {name: value for name, value in values.items() if value is not None}


async def _rules(client, admin, account_id: int) -> list[dict]:
    answer = await client.get(f"{API}/accounts/{account_id}/rules", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def test_a_rule_made_with_the_form_is_the_apis_rule(client, admin, web):
    account = await make_account(client, admin, handle="uni_news")
    person = await web(Role.organizer, [account["id"]])
    editor = await person.get(f"/accounts/{account['id']}/rules/new")
    assert editor.status_code == 200 and 'hx-post="/rules/validate"' in editor.text
    saved = await person.post(f"/accounts/{account['id']}/rules/new", _rule_form(review="on"))
    assert saved.status_code == 303 and saved.headers["location"] == f"/accounts/{account['id']}/rules"
    [rule] = await _rules(client, admin, account["id"])
    assert (rule["name"], rule["query"], rule["scope"], rule["review"], rule["enabled"]) == (
        "uni", "#uni_news", "followers", True, True)
    listed = await person.get(saved.headers["location"])
    assert "Rule “uni” is saved." in listed.text and f'href="/rules/{rule["id"]}"' in listed.text

    changed = await person.post(f"/rules/{rule['id']}", _rule_form(name="uni news", query="#uni_news -is:reply",
                                                                   enabled=None))
    assert changed.status_code == 303
    [rule] = await _rules(client, admin, account["id"])
    assert (rule["name"], rule["query"], rule["review"], rule["enabled"]) == (
        "uni news", "#uni_news -is:reply", False, False)


async def test_a_query_with_a_mistake_is_refused_with_its_position_marked(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    refused = await person.post(f"/accounts/{account['id']}/rules/new", _rule_form(query="#coffee (tea OR"))
    assert refused.status_code == 422
    assert "OR needs a term on both sides" in refused.text and "(at character 14)" in refused.text
    assert "<code>#coffee (tea <mark>OR</mark></code>" in refused.text
    assert re.search(r'caret" aria-hidden="true"> {13}\^\^ here', refused.text)  # the caret line under the fault
    assert 'value="uni"' in refused.text  # what was typed is kept
    assert await _rules(client, admin, account["id"]) == []

    rule = await make_rule(client, admin, account["id"], "#coffee")
    again = await person.post(f"/rules/{rule['id']}", _rule_form(query="lang:english coffee", scope="anyone"))
    assert again.status_code == 422 and "lang:<mark>english</mark> coffee" in again.text
    [kept] = await _rules(client, admin, account["id"])
    assert kept["query"] == "#coffee" and kept["name"] == "#coffee"


async def test_other_mistakes_are_shown_next_to_their_field(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    for fields, said in (({"scope": "friends"}, "unknown scope &#39;friends&#39;"),
                         ({"name": ""}, "at least 1 character"),
                         ({"priority": "high"}, "valid integer"),
                         ({"action": "quote"}, "a quote rule needs a quote_template")):
        answer = await person.post(f"/accounts/{account['id']}/rules/new", _rule_form(**fields))
        assert answer.status_code == 422 and said in answer.text, (fields, answer.text[-3000:])
    assert await _rules(client, admin, account["id"]) == []


async def test_the_validate_fragment_marks_the_fault_as_it_is_typed(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    bad = await person.post("/rules/validate", {"query": "espresso lang:english", "scope": "anyone"}, headers=HX)
    assert bad.status_code == 200 and 'data-valid="false"' in bad.text
    assert "espresso lang:<mark>english</mark>" in bad.text and "(at character 15)" in bad.text
    assert re.search(r'caret" aria-hidden="true"> {14}\^{7} here', bad.text)
    unclosed = await person.post("/rules/validate", {"query": '#coffee "latte art', "scope": "anyone"}, headers=HX)
    assert "unclosed quote" in unclosed.text and '#coffee <mark>&#34;</mark>latte art' in unclosed.text
    good = await person.post("/rules/validate", {"query": "espresso or latte", "scope": "anyone"}, headers=HX)
    assert 'data-valid="true"' in good.text and "<code>espresso or latte</code>" in good.text
    assert "&#39;or&#39; at position 9 is a plain word here, not an operator; write OR (in capitals)" in good.text
    scope = await person.post("/rules/validate", {"query": "x", "scope": "friends"}, headers=HX)
    assert 'data-field="scope"' in scope.text and "unknown scope" in scope.text and "<mark>" not in scope.text
    empty_ok = await person.post("/rules/validate", {"query": "", "scope": "followers"}, headers=HX)
    assert "every post in scope" in empty_ok.text


async def test_the_switch_turns_a_rule_on_and_off(client, admin, web):
    account = await make_account(client, admin)
    rule = await make_rule(client, admin, account["id"], "#coffee")
    person = await web(Role.organizer, [account["id"]])
    listed = await person.get(f"/accounts/{account['id']}/rules")
    assert 'role="switch" aria-checked="true"' in listed.text
    off = await person.post(f"/rules/{rule['id']}/enabled", {"enabled": "false"}, headers=HX)
    assert off.status_code == 200 and 'aria-checked="false"' in off.text
    assert "Rule “#coffee” is off." in off.text and 'hx-swap-oob="innerHTML:#rules-status"' in off.text
    assert [r["enabled"] for r in await _rules(client, admin, account["id"])] == [False]
    on = await person.post(f"/rules/{rule['id']}/enabled", {"enabled": "true"})  # without htmx: back to the list
    assert on.status_code == 303 and [r["enabled"] for r in await _rules(client, admin, account["id"])] == [True]
    odd = await person.post(f"/rules/{rule['id']}/enabled", {"enabled": "maybe"})
    assert odd.status_code == 422 and [r["enabled"] for r in await _rules(client, admin, account["id"])] == [True]


async def _seed_actions(runtime, account_id: int, rule_id: int, statuses: list[str], *, days_ago: float = 0) -> None:
    """Actions of a rule with these statuses, made `days_ago` days ago (one seen post each)."""
    async with transaction(runtime.sessions) as session:
        for n, status in enumerate(statuses):
            seen = SeenPost(platform="mock", post_id=f"seed-{rule_id}-{days_ago}-{n}",
                            author_id="a1", author_handle="ana", data={})
            session.add(seen)
            await session.flush()
            session.add(Action(account_id=account_id, rule_id=rule_id, seen_post_id=seen.id, post_id=seen.post_id,
                               author_id="a1", author_handle="ana", kind="repost", status=status,
                               created_at=utcnow() - timedelta(days=days_ago)))


def _counts(html: str, rule_id: int) -> list[int]:
    row = re.search(rf'<tr id="rule-{rule_id}">(.*?)</tr>', html, re.S)
    assert row, html
    return [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', row.group(1))]


async def test_the_list_counts_each_rules_last_seven_days(client, admin, web, runtime):
    account = await make_account(client, admin)
    busy = await make_rule(client, admin, account["id"], "#coffee")
    quiet = await make_rule(client, admin, account["id"], "#tea")
    idle = await make_rule(client, admin, account["id"], "#cocoa")
    other = await make_account(client, admin, handle="elsewhere")
    theirs = await make_rule(client, admin, other["id"], "#coffee")
    statuses = ["done", "done", "undone", "skipped", "skipped", "skipped", "queued", "review", "rejected", "failed"]
    await _seed_actions(runtime, account["id"], busy["id"], statuses)
    await _seed_actions(runtime, account["id"], busy["id"], ["done", "skipped"], days_ago=8)  # too old to count
    await _seed_actions(runtime, account["id"], quiet["id"], ["skipped"], days_ago=6.9)
    await _seed_actions(runtime, other["id"], theirs["id"], ["done"])
    person = await web(Role.organizer, [account["id"]])
    listed = await person.get(f"/accounts/{account['id']}/rules")
    assert listed.status_code == 200
    assert _counts(listed.text, busy["id"]) == [10, 3, 3]
    assert _counts(listed.text, quiet["id"]) == [1, 0, 1]
    assert _counts(listed.text, idle["id"]) == [0, 0, 0]
    assert f"rule-{theirs['id']}" not in listed.text


async def test_explain_says_which_terms_held_for_a_pasted_post(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.moderator, [account["id"]])  # trying a rule only reads
    query = {"query": "#coffee -giveaway lang:en", "scope": "anyone"}
    held = await person.post(f"/accounts/{account['id']}/rules/explain",
                             {**query, "post_text": "Fresh #coffee beans", "post_author": "@ana", "post_lang": "en",
                              "post_followers": "1,200", "post_reply": ""}, headers=HX)
    assert held.status_code == 200 and "Matches" in held.text
    assert [(t, h) for t, h in re.findall(r'<li class="(held|not-held)">.*?<code>(.*?)</code>', held.text, re.S)] == [
        ("held", "#coffee"), ("held", "-giveaway"), ("held", "lang:en")]
    missed = await person.post(f"/accounts/{account['id']}/rules/explain",
                               {**query, "post_text": "#coffee giveaway!", "post_author": "ana"}, headers=HX)
    assert "No match" in missed.text
    assert re.findall(r'<li class="(held|not-held)">', missed.text) == ["held", "not-held", "not-held"]
    page = await person.post(f"/accounts/{account['id']}/rules/explain", {**query, "post_text": "#coffee"})
    assert page.status_code == 200 and "<h1>Rule tried</h1>" in page.text  # without htmx: a page
    bad = await person.post(f"/accounts/{account['id']}/rules/explain",
                            {**query, "post_text": "x", "post_followers": "lots"}, headers=HX)
    assert bad.status_code == 422 and "not a number of followers" in bad.text
    broken = await person.post(f"/accounts/{account['id']}/rules/explain", {"query": "(", "post_text": "x"},
                               headers=HX)
    assert broken.status_code == 422


async def test_preview_counts_what_the_rule_would_have_done_in_the_last_day(client, admin, web, runtime):
    w = world()
    for handle in ("fan", "stranger", "passerby"):
        w.add_author(handle, followers_count=100)
    w.follow("fan", "uni_news")
    account = await make_account(client, admin, handle="uni_news")
    await client.put(f"{API}/accounts/{account['id']}/filters", json={"languages": ["en"]}, headers=admin)
    posts = [w.publish("fan", "Open day on Friday #uni_news", lang="en"),
             w.publish("stranger", "Me too #uni_news", lang="en"),
             w.publish("passerby", "Hello #uni_news", lang="en"),
             w.publish("fan", "Tag der offenen Tür #uni_news", lang="de"),
             w.publish("fan", "Lunch was good", lang="en")]
    await ingest(client, admin, posts)
    old = w.publish("stranger", "Last week #uni_news", lang="en")
    await ingest(client, admin, [old])
    async with transaction(runtime.sessions) as session:  # seen two days ago: outside the 24 h
        await session.execute(update(SeenPost).where(SeenPost.post_id == old.id)
                              .values(seen_at=utcnow() - timedelta(days=2)))
    person = await web(Role.organizer, [account["id"]])
    shown = await person.post(f"/accounts/{account['id']}/rules/preview",
                              {"query": "#uni_news", "scope": "followers", "action": "repost"}, headers=HX)
    assert shown.status_code == 200, shown.text
    assert ("In the last 24 h this rule would have reposted 1 and skipped 3: 2 not a follower, 1 language."
            in shown.text)
    assert "5 posts seen" in shown.text and "1 did not match" in shown.text
    rows = re.findall(r'<tr>\s*<td class="wide">(.*?)</td>.*?@(\w+)</span></td>\s*'
                      r'<td data-label="Would">.*?>(\w+)</span>.*?<td data-label="Why">(.*?)</td>', shown.text, re.S)
    assert sorted((handle, verdict, why) for _, handle, verdict, why in rows) == [
        ("fan", "repost", "in scope; no filter or block stops it"), ("fan", "skip", "filter: language de not in en"),
        ("passerby", "skip", "scope: not a follower"), ("stranger", "skip", "scope: not a follower")]
    assert "Last week" not in shown.text and "Lunch" not in shown.text
    # nothing was acted on
    answer = await client.get(f"{API}/accounts/{account['id']}/actions", headers=admin)
    assert answer.json()["items"] == []


async def test_a_preview_without_recent_posts_says_so(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    shown = await person.post(f"/accounts/{account['id']}/rules/preview", {"query": "#coffee"}, headers=HX)
    assert shown.status_code == 200 and "No posts were seen in the last 24 h" in shown.text


async def test_a_rule_is_deleted_after_a_confirmation(client, admin, web):
    account = await make_account(client, admin)
    rule = await make_rule(client, admin, account["id"], "#coffee")
    person = await web(Role.organizer, [account["id"]])
    asked = await person.get(f"/rules/{rule['id']}/delete")
    assert asked.status_code == 200 and "Delete the rule" in asked.text
    assert len(await _rules(client, admin, account["id"])) == 1  # asking deletes nothing
    done = await person.post(f"/rules/{rule['id']}/delete")
    assert done.status_code == 303 and await _rules(client, admin, account["id"]) == []
    gone = await person.get(f"/rules/{rule['id']}")
    assert gone.status_code == 404


async def test_a_moderator_sees_rules_but_cannot_change_them(client, admin, web):
    account = await make_account(client, admin)
    rule = await make_rule(client, admin, account["id"], "#coffee")
    person = await web(Role.moderator, [account["id"]])
    listed = await person.get(f"/accounts/{account['id']}/rules")
    assert listed.status_code == 200 and "#coffee" in listed.text
    assert 'role="switch"' not in listed.text and "New rule" not in listed.text
    editor = await person.get(f"/rules/{rule['id']}")
    assert editor.status_code == 200 and "Save rule" not in editor.text and "readonly" in editor.text
    for url, fields in ((f"/rules/{rule['id']}/enabled", {"enabled": "false"}),
                        (f"/accounts/{account['id']}/rules/new", _rule_form()),
                        (f"/rules/{rule['id']}", _rule_form(name="mine now")),
                        (f"/rules/{rule['id']}/delete", {})):
        answer = await person.post(url, fields)
        assert answer.status_code == 403, url
    for url in (f"/accounts/{account['id']}/rules/new", f"/rules/{rule['id']}/delete"):
        assert (await person.get(url)).status_code == 403, url
    [kept] = await _rules(client, admin, account["id"])
    assert (kept["name"], kept["enabled"]) == ("#coffee", True)


async def test_another_accounts_rules_are_not_found(client, admin, web):
    mine = await make_account(client, admin)
    theirs = await make_account(client, admin, handle="elsewhere")
    rule = await make_rule(client, admin, theirs["id"], "#coffee")
    person = await web(Role.organizer, [mine["id"]])
    for url in (f"/accounts/{theirs['id']}/rules", f"/rules/{rule['id']}", f"/accounts/{theirs['id']}/rules/new",
                f"/rules/{rule['id']}/delete"):
        assert (await person.get(url)).status_code == 404, url
    for url, fields in ((f"/rules/{rule['id']}/enabled", {"enabled": "false"}),
                        (f"/accounts/{theirs['id']}/rules/new", _rule_form()),
                        (f"/rules/{rule['id']}", _rule_form(name="mine now")),
                        (f"/rules/{rule['id']}/delete", {}),
                        (f"/accounts/{theirs['id']}/rules/preview", {"query": "#coffee"}),
                        (f"/accounts/{theirs['id']}/rules/explain", {"query": "#coffee", "post_text": "x"})):
        assert (await person.post(url, fields)).status_code == 404, url
    [kept] = await _rules(client, admin, theirs["id"])
    assert (kept["name"], kept["enabled"]) == ("#coffee", True)
    assert (await person.get("/rules/99999999999")).status_code == 422  # not an id we could have


async def test_unstorable_text_and_a_missing_csrf_token_change_nothing(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    for field in ("name", "query", "scope"):
        answer = await person.post(f"/accounts/{account['id']}/rules/new", _rule_form(**{field: "a\x00b"}))
        assert answer.status_code == 422 and "NUL" in answer.text, field
    forged = await person.http.post(f"/accounts/{account['id']}/rules/new", data=_rule_form(csrf="forged"))
    assert forged.status_code == 403
    assert await _rules(client, admin, account["id"]) == []


async def test_the_editor_sets_a_rules_timing_and_promotion_window(client, admin, web):
    account = await make_account(client, admin)
    person = await web(Role.organizer, [account["id"]])
    editor = await person.get(f"/accounts/{account['id']}/rules/new")
    assert 'name="timing_mode"' in editor.text and 'name="undo_after_hours"' in editor.text
    saved = await person.post(f"/accounts/{account['id']}/rules/new", _rule_form(
        timing_mode="at", timing_times="17:30, 09:00", undo_after_hours="24"))
    assert saved.status_code == 303, saved.text[-2000:]
    [rule] = await _rules(client, admin, account["id"])
    assert rule["timing"] == {"mode": "at", "times": ["09:00", "17:30"]} and rule["undo_after_hours"] == 24
    shown = await person.get(f"/rules/{rule['id']}")
    assert 'value="09:00, 17:30"' in shown.text and '<option value="at" selected>' in shown.text
    changed = await person.post(f"/rules/{rule['id']}", _rule_form(timing_mode="spread", timing_minutes="120"))
    assert changed.status_code == 303
    [rule] = await _rules(client, admin, account["id"])
    assert rule["timing"] == {"mode": "spread", "window_minutes": 120} and rule["undo_after_hours"] is None
    for fields, said in (({"timing_mode": "at", "timing_times": "25:00"}, "&#39;25:00&#39; is not a time of day"),
                         ({"timing_mode": "delay", "timing_minutes": "-5"}, "minutes: Input should be greater"),
                         ({"timing_mode": "soon"}, "does not match any of the expected tags"),
                         ({"undo_after_hours": "99999"}, "less than or equal to 8760")):
        answer = await person.post(f"/rules/{rule['id']}", _rule_form(**fields))
        assert answer.status_code == 422 and said in answer.text, (fields, answer.text[-3000:])
    [kept] = await _rules(client, admin, account["id"])
    assert kept["timing"] == {"mode": "spread", "window_minutes": 120}
