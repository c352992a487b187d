"""The review queue page over HTTP: cards, approve and reject (one or several), block the author, permissions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.caller import Role
from tests.api.helpers import API, actions, ingest, make_account, make_rule, world


@pytest.fixture
async def account(client, admin):
    world().add_author("alice", followers_count=120, display_name="Alice Barista", bio="<p>I pour <b>swans</b></p>",
                       created_at=datetime.now(UTC) - timedelta(days=400))
    return await make_account(client, admin)


async def seed_review(client, admin, pipeline, account: dict, count: int = 3) -> list[dict]:
    """`count` posts of alice waiting for review on the account, oldest first."""
    await make_rule(client, admin, account["id"], "#latteart", review=True, name="Latte art")
    posts = [world().publish("alice", f"swan number {n} #latteart", media_count=n) for n in range(count)]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)
    return sorted(await actions(client, admin, account["id"], status="review"), key=lambda a: a["id"])


async def api_action(client, admin, action_id: int) -> dict:
    response = await client.get(f"{API}/actions/{action_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_queue_shows_each_post_as_a_card(client, admin, pipeline, account, web):
    waiting = await seed_review(client, admin, pipeline, account, count=2)
    moderator = await web(Role.moderator, [account["id"]])
    shown = await moderator.get(f"/accounts/{account['id']}/review")
    assert shown.status_code == 200
    page = shown.text
    for action in waiting:
        assert f'id="card-{action["id"]}"' in page
    assert "swan number 1 #latteart" in page and "Alice Barista" in page and "@alice" in page
    assert "120" in page and ">1 year<" in page and "I pour swans" in page and "<b>swans" not in page  # the bio as text
    assert "Latte art" in page and '<code class="term">#latteart</code>' in page
    assert "1 attachment" in page and "0 attachments" in page
    assert "mock://" in page and 'href="mock://' not in page  # only web links are links
    assert f'href="/accounts/{account["id"]}/activity?author=alice"' in page
    assert "<kbd>j</kbd>" in page and "Approve selected" in page


async def test_approve_and_reject_through_the_forms(client, admin, pipeline, account, web):
    first, second, _ = await seed_review(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]], name="mo")
    base = f"/accounts/{account['id']}/review"
    approved = await moderator.post(f"{base}/{first['id']}/approve")
    assert approved.status_code == 303 and approved.headers["location"] == base
    rejected = await moderator.post(f"{base}/{second['id']}/reject", {"reason": "blurry photo"})
    assert rejected.status_code == 303
    now_first, now_second = await api_action(client, admin, first["id"]), await api_action(client, admin, second["id"])
    assert now_first["status"] == "queued" and now_first["decided_by"].startswith("mo (user")
    assert now_second["status"] == "rejected" and now_second["reason"].endswith(": blurry photo")
    page = (await moderator.get(base)).text
    assert f'id="card-{first["id"]}"' not in page and f'id="card-{second["id"]}"' not in page
    assert "Rejected the post by @alice: it will not be sent." in page  # the last answer's note


async def test_an_htmx_approve_removes_the_card_and_announces_it(client, admin, pipeline, account, web):
    [action] = await seed_review(client, admin, pipeline, account, count=1)
    person = await web(Role.organizer, [account["id"]])
    answer = await person.post(f"/accounts/{account['id']}/review/{action['id']}/approve",
                               headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert 'id="review-status" hx-swap-oob="innerHTML"' in answer.text and "Approved the post by @alice" in answer.text
    assert "card-" not in answer.text  # nothing replaces the card
    assert (await api_action(client, admin, action["id"]))["status"] == "queued"


async def test_approve_two_selected_and_reject_selected_with_a_reason(client, admin, pipeline, account, web):
    first, second, third = await seed_review(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/review"
    answer = await moderator.post(f"{base}/selected", {"do": "approve", "ids": [first["id"], second["id"]]})
    assert answer.status_code == 303
    assert [(await api_action(client, admin, a["id"]))["status"] for a in (first, second, third)] == [
        "queued", "queued", "review"]
    assert "Approved 2 posts." in (await moderator.get(base)).text
    answer = await moderator.post(f"{base}/selected", {"do": "reject", "ids": [third["id"]], "reason": "off topic"})
    assert answer.status_code == 303
    rejected = await api_action(client, admin, third["id"])
    assert rejected["status"] == "rejected" and rejected["reason"].endswith(": off topic")


async def test_a_card_someone_else_decided_goes_away_saying_so(client, admin, pipeline, account, web):
    first, _, _ = await seed_review(client, admin, pipeline, account)
    ana, bo = await web(Role.moderator, [account["id"]], name="ana"), await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/review"
    assert (await ana.post(f"{base}/{first['id']}/reject", {"reason": "spam"})).status_code == 303
    late = await bo.post(f"{base}/{first['id']}/approve", headers={"HX-Request": "true"})
    assert late.status_code == 200 and "already handled by ana" in late.text and "it is rejected" in late.text
    assert (await api_action(client, admin, first["id"]))["status"] == "rejected"  # ana's decision stands


async def test_selected_is_all_or_nothing(client, admin, pipeline, account, web):
    first, second, _ = await seed_review(client, admin, pipeline, account)
    moderator = await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/review"
    assert (await moderator.post(f"{base}/{first['id']}/approve")).status_code == 303
    answer = await moderator.post(f"{base}/selected", {"do": "approve", "ids": [second["id"], first["id"]]})
    assert answer.status_code == 409 and "not waiting for review" in answer.text
    assert (await api_action(client, admin, second["id"]))["status"] == "review"  # rolled back


async def test_bad_input_is_a_clear_4xx_and_changes_nothing(client, admin, pipeline, account, web):
    [action] = await seed_review(client, admin, pipeline, account, count=1)
    moderator = await web(Role.moderator, [account["id"]])
    base = f"/accounts/{account['id']}/review"
    assert (await moderator.post(f"{base}/999999/approve")).status_code == 404
    assert (await moderator.post(f"{base}/abc/approve")).status_code == 422
    assert (await moderator.get("/accounts/abc/review")).status_code == 422
    assert (await moderator.post(f"{base}/selected", {"do": "approve"})).status_code == 422
    assert (await moderator.post(f"{base}/selected", {"do": "smash", "ids": [action["id"]]})).status_code == 422
    answer = await moderator.post(f"{base}/selected", {"do": "approve", "ids": ["1 OR 1"]})
    assert answer.status_code == 422 and "is not an id" in answer.text
    long = await moderator.post(f"{base}/{action['id']}/reject", {"reason": "x" * 501})
    assert long.status_code == 422 and "at most 500" in long.text
    assert (await api_action(client, admin, action["id"]))["status"] == "review"


async def test_csrf_missing_is_403_and_changes_nothing(client, admin, pipeline, account, web):
    [action] = await seed_review(client, admin, pipeline, account, count=1)
    moderator = await web(Role.moderator, [account["id"]])
    answer = await moderator.http.post(f"/accounts/{account['id']}/review/{action['id']}/approve", data={})
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert (await api_action(client, admin, action["id"]))["status"] == "review"


async def test_a_moderator_of_another_account_gets_404(client, admin, pipeline, account, web):
    [action] = await seed_review(client, admin, pipeline, account, count=1)
    other = await make_account(client, admin, handle="teaclub")
    stranger = await web(Role.moderator, [other["id"]])
    assert (await stranger.get(f"/accounts/{account['id']}/review")).status_code == 404
    assert (await stranger.post(f"/accounts/{account['id']}/review/{action['id']}/approve")).status_code == 404
    # the action named through the stranger's own account is still not theirs
    assert (await stranger.post(f"/accounts/{other['id']}/review/{action['id']}/approve")).status_code == 404
    assert (await stranger.post(f"/accounts/{other['id']}/review/selected",
                                {"do": "reject", "ids": [action["id"]]})).status_code == 404
    assert (await api_action(client, admin, action["id"]))["status"] == "review"


async def test_block_the_author_from_a_card(client, admin, pipeline, account, web):
    await make_rule(client, admin, account["id"], "#coffee", name="Coffee")
    await ingest(client, admin, [world().publish("alice", "earlier #coffee")])
    first, second = await seed_review(client, admin, pipeline, account, count=2)  # the tick sends the earlier one
    [sent] = await actions(client, admin, account["id"], status="done")
    moderator = await web(Role.moderator, [account["id"]])
    answer = await moderator.post(f"/accounts/{account['id']}/review/{first['id']}/block",
                                  {"reason": "spam", "undo_existing": "1"})
    assert answer.status_code == 303
    note = (await moderator.get(f"/accounts/{account['id']}/review")).text
    assert "Blocked @alice: 2 waiting post(s) of theirs will not be sent; undo requested for 1 earlier" in note
    assert (await api_action(client, admin, sent["id"]))["undo_requested_at"]
    blocks = (await client.get(f"{API}/accounts/{account['id']}/blocks", headers=admin)).json()["items"]
    assert [(b["handle"], b["reason"], b["undo_existing"]) for b in blocks] == [("alice", "spam", True)]
    assert {(await api_action(client, admin, a["id"]))["status"] for a in (first, second)} == {"skipped"}
    again = await moderator.post(f"/accounts/{account['id']}/review/{first['id']}/block", {"reason": "spam"})
    assert again.status_code == 409 and "already blocked" in again.text
