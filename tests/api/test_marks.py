"""Content warnings, sensitive posts and labels through the API and the pipeline, on both databases:
the filters round-trip, each skip or hold names the mark, an approved hold is sent, and rules
may use has:cw, is:sensitive and label:."""

import pytest

from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world

MARKS = {"content_warnings": "skip", "sensitive": "review", "labels_skip": ["Spam", "spam", "!hide"],
         "labels_review": ["ai-art"]}


@pytest.fixture
async def account(client, admin):
    for handle in ("alice", "bob"):
        world().add_author(handle, followers_count=100)
    return await make_account(client, admin)


async def _run(client, admin, pipeline, posts):
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)


async def test_marks_round_trip_and_each_skip_or_hold_names_its_mark(client, admin, pipeline, account):
    url = f"{API}/accounts/{account['id']}/filters"
    put = await client.put(url, json=MARKS, headers=admin)
    assert put.status_code == 200, put.text
    got = (await client.get(url, headers=admin)).json()
    assert {k: got[k] for k in MARKS} == {**MARKS, "labels_skip": ["spam", "!hide"]}
    await make_rule(client, admin, account["id"], "#coffee")
    w = world()
    bob = w.authors["bob"].model_copy(update={"labels": ["spam"]})
    posts = {
        "plain": w.publish("alice", "flat white #coffee"),
        "cw": w.publish("alice", "burnt again #coffee", content_warning="Coffee rant"),
        "sensitive": w.publish("alice", "look #coffee", sensitive=True),
        "label": w.publish("alice", "win a machine #coffee", labels=["spam"]),
        "author": w.publish("alice", "bob said #coffee", is_repost=True, reposted_author=bob),
        "held": w.publish("alice", "a drawing #coffee", labels=["ai-art"]),
    }
    await _run(client, admin, pipeline, list(posts.values()))
    log = by_post(await actions(client, admin, account["id"]))
    got = {k: (log[p.id]["status"], log[p.id]["reason"]) for k, p in posts.items()}
    assert got == {
        "plain": ("done", None),
        "cw": ("skipped", "filter: content warning 'Coffee rant'"),
        "sensitive": ("review", "filter: marked sensitive (held for review)"),
        "label": ("skipped", "filter: label spam on the post"),
        "author": ("skipped", "filter: label spam on the reposted author"),
        "held": ("review", "filter: label ai-art on the post (held for review)"),
    }
    approved = await client.post(f"{API}/actions/{log[posts['held'].id]['id']}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    await pipeline.tick(poll=False)
    assert by_post(await actions(client, admin, account["id"]))[posts["held"].id]["status"] == "done"


async def test_rules_select_by_marks(client, admin, pipeline, account):
    await make_rule(client, admin, account["id"], "#tea -has:cw -is:sensitive -label:spam")
    w = world()
    clean, cw, labelled = (w.publish("alice", "green #tea"), w.publish("alice", "#tea", content_warning="hot"),
                           w.publish("alice", "buy #tea", labels=["SPAM"]))
    await _run(client, admin, pipeline, [clean, cw, labelled])
    assert set(by_post(await actions(client, admin, account["id"]))) == {clean.id}


@pytest.mark.parametrize("bad, where", [
    ({"content_warnings": "hide"}, "content_warnings"),
    ({"sensitive": True}, "sensitive"),
    ({"labels_skip": ["sp am"]}, "labels_skip"),
    ({"labels_review": ["a" * 129]}, "labels_review"),
    ({"labels_skip": "spam"}, "labels_skip"),
])
async def test_bad_marks_are_refused_and_change_nothing(client, admin, account, bad, where):
    url = f"{API}/accounts/{account['id']}/filters"
    await client.put(url, json=MARKS, headers=admin)
    response = await client.put(url, json=bad, headers=admin)
    assert response.status_code == 422, response.text
    assert where in response.text
    assert {k: v for k, v in (await client.get(url, headers=admin)).json().items() if k in MARKS}["labels_review"] == \
        ["ai-art"]
