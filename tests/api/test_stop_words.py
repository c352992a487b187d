""""Stop" by mention (issue 13.6): an author who mentions the account with a stop word is opted out."""

import pytest
from sqlalchemy import select

from app.auth.caller import Role
from app.db.session import transaction
from app.models import Account
from app.moderation.stop import take_mentions
from tests.api.helpers import API, actions, by_post, make_account, make_rule, world
from tests.api.test_real_platforms import REAL, _connect, _harness
from tests.conftest import make_token
from tests.platforms.faults import RESET


@pytest.fixture
async def account(client, admin):
    for handle in ("alice", "bob"):
        world().add_author(handle, followers_count=100)
    made = await make_account(client, admin, stop_words=None)  # the server's default: on
    await make_rule(client, admin, made["id"], "#coffee")
    return made


async def _optouts(client, headers, account_id: int) -> list[dict]:
    response = await client.get(f"{API}/accounts/{account_id}/authors/optout", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_stop_mention_opts_the_author_out_and_undoes_when_asked(client, admin, pipeline, account):
    aid, w = account["id"], world()
    assert account["stop_words"] == {"enabled": True, "words": ["stop", "#nobot", "unsubscribe"],
                                     "undo_existing": False, "reply": False,
                                     "reply_text": "OK, I won't repost your posts any more."}
    patched = await client.patch(f"{API}/accounts/{aid}", headers=admin,
                                 json={"stop_words": {"words": ["Stop", "#nobot"], "undo_existing": True}})
    assert patched.status_code == 200 and patched.json()["stop_words"]["words"] == ["stop", "#nobot"]
    earlier = w.publish("alice", "espresso #coffee")
    await pipeline.tick()
    assert by_post(await actions(client, admin, aid))[earlier.id]["status"] == "done"

    said = w.publish("alice", "@coffeeclub STOP please")
    w.publish("bob", "@coffeeclub nonstop #coffee, stopping by")  # neither a stop word nor reason to stop
    await pipeline.tick()  # the mention is read: alice is opted out, her repost's undo asked for
    await pipeline.tick()  # ...and carried out
    [entry] = await _optouts(client, admin, aid)
    assert entry["author"] == w.authors["alice"].id.lower()
    log = by_post(await actions(client, admin, aid))
    assert log[earlier.id]["status"] == "undone" and not any(k[1] == earlier.id for k in w.reposts)

    later = w.publish("alice", "flat white #coffee")
    await pipeline.tick()
    skipped = by_post(await actions(client, admin, aid))[later.id]
    assert skipped["status"] == "skipped" and "opt" in skipped["reason"]
    assert [a["status"] for a in await actions(client, admin, aid) if a["author_handle"] == "bob"] == ["done"]
    audit = (await client.get(f"{API}/audit", params={"action": "optout.add"}, headers=admin)).json()["items"]
    [event] = [e for e in audit if e["action"] == "optout.add"]
    assert event["actor"] == f"by mention {said.url}" and event["detail"]["stop_word"] == "stop"


async def test_the_opt_out_follows_the_id_through_a_handle_change(client, admin, pipeline, account):
    aid, w = account["id"], world()
    w.publish("alice", "@coffeeclub #nobot")
    await pipeline.tick()
    assert len(await _optouts(client, admin, aid)) == 1
    person = w.authors.pop("alice")
    person.handle = "alice_renamed"
    w.authors["alice_renamed"] = person
    post = w.publish("alice_renamed", "@coffeeclub stop, I said #coffee")  # again, under the new handle
    await pipeline.tick()
    assert len(await _optouts(client, admin, aid)) == 1  # one person, one entry
    assert by_post(await actions(client, admin, aid))[post.id]["status"] == "skipped"


async def test_switched_off_nothing_is_read(client, admin, pipeline, account):
    aid = account["id"]
    off = await client.patch(f"{API}/accounts/{aid}", headers=admin, json={"stop_words": {"enabled": False}})
    assert off.status_code == 200 and off.json()["stop_words"]["enabled"] is False
    world().publish("alice", "@coffeeclub stop")
    await pipeline.tick()
    assert await _optouts(client, admin, aid) == []
    sources = (await client.get(f"{API}/accounts/{aid}/health", headers=admin)).json()["sources"]
    assert "mentions" not in {s["source"] for s in sources if s["wanted"]}


@pytest.mark.parametrize("stop_words", [
    {"words": []}, {"words": [f"w{i}" for i in range(21)]}, {"words": ["x" * 51]}, {"words": ["a\x00b"]},
    {"words": ["two words"]}, {"words": [""]}, {"enabled": None}, {"reply": "sometimes"}, {"reply_text": "   "},
    {"reply_text": "x" * 281}, {"reply_text": "a\x00b"}, {"answer": True}, None,
])
async def test_bad_settings_are_refused_and_change_nothing(client, admin, account, stop_words):
    aid = account["id"]
    response = await client.patch(f"{API}/accounts/{aid}", headers=admin, json={"stop_words": stop_words})
    assert response.status_code == 422 and response.json()["detail"], response.text
    kept = (await client.get(f"{API}/accounts/{aid}", headers=admin)).json()["stop_words"]
    assert kept["words"] == ["stop", "#nobot", "unsubscribe"] and kept["enabled"] is True and kept["reply"] is False


async def test_a_moderator_cannot_change_them(client, admin, runtime, account):
    moderator = await make_token(runtime, role=Role.moderator, account_ids=[account["id"]])
    response = await client.patch(f"{API}/accounts/{account['id']}", headers=moderator,
                                  json={"stop_words": {"enabled": False}})
    assert response.status_code == 403


def _say_stop(h, text: str) -> str:
    """A person (not the account) mentions the account on the harness's platform; returns their id."""
    if h.name == "mastodon":
        alice = h.fake.add_account("alice")
        h.fake.new_status(alice, f"@reposter_bot {text}")
        return alice["id"]
    if h.name == "x":
        h.fake.add_tweet("2002", f"@reposter_acct {text}")
        return "2002"
    from tests.platforms.harness_bluesky import did_for, facets_for

    body = f"@reposterbot {text}"
    h.server.publish("alice", {"text": body, "facets": facets_for(body)})
    return did_for("alice")


@pytest.fixture(params=REAL)
def real(request, runtime, monkeypatch):
    return _harness(request.param, runtime, monkeypatch)


async def test_each_real_adapter_reads_a_stop_mention(client, admin, pipeline, real):
    account = await _connect(client, admin, real, stop_words=True, allow_without_consent=True)
    author = _say_stop(real, "please STOP")
    await pipeline.tick()
    [entry] = await _optouts(client, admin, account["id"])
    assert entry["author"] == author.lower()
    sources = (await client.get(f"{API}/accounts/{account['id']}/sources", headers=admin)).json()
    assert {s["source"]: s["state"] for s in sources}["mentions"] == "ok"


def _replies_on(h, author: str) -> list[str]:
    """The account's replies the platform's fake holds, to posts by `author` (their id)."""
    if h.name == "mastodon":
        fake = h.fake
        return [s["id"] for s in fake.statuses.values() if s["account"]["id"] == fake.me["id"]
                and s["in_reply_to_account_id"] == author]
    if h.name == "bluesky":
        return [uri for uri, r in h.server.my_records("app.bsky.feed.post").items()
                if (r.get("reply") or {}).get("parent", {}).get("uri", "").startswith(f"at://{author}/")]
    return [t["id"] for t in h.fake.tweets.values() if t.get("in_reply_to_user_id") == author]


async def test_each_real_adapter_replies_once_though_the_answer_is_lost(client, admin, pipeline, real):
    account = await _connect(client, admin, real, stop_words=True, allow_without_consent=True)
    patched = await client.patch(f"{API}/accounts/{account['id']}", headers=admin,
                                 json={"stop_words": {"reply": True, "reply_text": "Understood: no more reposts."}})
    assert patched.status_code == 200, patched.text
    author = _say_stop(real, "stop")
    faults = (real.server if real.name == "bluesky" else real.fake).after_acting
    faults.arm(RESET)  # the reply is made, then its answer lost: settled by asking, never sent again

    await pipeline.tick()
    await pipeline.tick()

    assert faults.struck == 1
    [reply] = [a for a in await actions(client, admin, account["id"]) if a["kind"] == "reply"]
    assert reply["status"] == "done" and reply["attempts"] == 1, reply
    assert _replies_on(real, author) == [reply["platform_action_id"]]
    real.validate_requests()  # the reply and the question after it fit each platform's published API


async def test_mentions_listed_as_a_feed_are_candidates_too_but_not_from_who_says_stop(client, admin, pipeline):
    account = await make_account(client, admin, sources=["mentions"], stop_words=None)
    await make_rule(client, admin, account["id"], "#coffee")
    w = world()
    kept = w.publish("bob", "@coffeeclub #coffee for you")
    stopped = w.publish("alice", "@coffeeclub stop #coffee")
    w.publish("carol", "#coffee without a mention")  # not a mention: not in this feed
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert set(log) == {kept.id, stopped.id}
    assert log[kept.id]["status"] == "done" and log[stopped.id]["status"] == "skipped"


# -- the reply: one per mention, sent once -------------------------------------------------------


def _replies(w, mention_id: str) -> list:
    """The account's replies to a mention, as the mock platform holds them."""
    return [p for p in w.posts if p.author.handle == "coffeeclub" and p.ref.get("reply_to_id") == mention_id]


async def test_with_reply_on_the_author_is_told_once_whatever_repeats(client, admin, pipeline, runtime, account):
    aid, w = account["id"], world()
    patched = await client.patch(f"{API}/accounts/{aid}", headers=admin, json={"stop_words": {
        "reply": True, "reply_text": "Done, @you are off our list."}})
    assert patched.status_code == 200 and patched.json()["stop_words"]["reply"] is True, patched.text
    said = w.publish("alice", "@coffeeclub stop")
    await pipeline.tick()  # read, opted out, reply queued...
    await pipeline.tick()  # ...and sent (if the first tick had not)
    [reply] = [a for a in await actions(client, admin, aid) if a["kind"] == "reply"]
    assert (reply["post_id"], reply["status"], reply["rule_id"]) == (said.id, "done", None)
    assert reply["author_handle"] == "alice" and reply["snapshot"]["reply_text"] == "Done, @you are off our list."
    [sent] = _replies(w, said.id)
    assert sent.id == reply["platform_action_id"] and sent.text == "Done, @you are off our list."

    w.publish("alice", "@coffeeclub STOP, I said")  # already on the list: no second reply
    await pipeline.tick()
    # the poll of that mention repeated after a moderator lifted the opt-out: the unique row holds
    lifted = await client.delete(f"{API}/accounts/{aid}/authors/optout/{w.authors['alice'].id}", headers=admin)
    assert lifted.status_code == 204, lifted.text
    async with transaction(runtime.sessions) as session:
        row = await session.scalar(select(Account).where(Account.id == aid))
        assert await take_mentions(session, account=row, mentions=[said]) == 1
    await pipeline.tick()
    assert [a["post_id"] for a in await actions(client, admin, aid) if a["kind"] == "reply"] == [said.id]
    assert len(_replies(w, said.id)) == 1 and len([p for p in w.posts if p.author.handle == "coffeeclub"]) == 1


async def test_with_reply_off_nobody_is_answered(client, admin, pipeline, account):
    aid, w = account["id"], world()
    w.publish("alice", "@coffeeclub #nobot")
    await pipeline.tick()
    await pipeline.tick()
    assert len(await _optouts(client, admin, aid)) == 1
    assert [a for a in await actions(client, admin, aid) if a["kind"] == "reply"] == []
    assert [p for p in w.posts if p.author.handle == "coffeeclub"] == []
