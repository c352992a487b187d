"""Nothing sent twice by us: answers lost after the platform acted, leases lost or outlived, undo
on a server that holds several boosts (issue 9, section 3).

The platforms' fake servers (tests/platforms/...) act, then lose the answer (a reset connection
or a 502, tests/platforms/faults.py); the Mastodon fake plays GoToSocial, which makes a new boost
for every reblog call. Everything runs through the API and the pipeline, on SQLite and PostgreSQL.
"""

import asyncio

import httpx
import pytest
from sqlalchemy import select, update

from app.db.base import utcnow
from app.models import Action
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from tests.api.helpers import API, actions
from tests.api.test_real_platforms import REAL, _connect, _harness
from tests.platforms.faults import BAD_GATEWAY, RESET
from tests.platforms.x.fake import ME_ID


@pytest.fixture(params=REAL)
def harness(request, runtime, monkeypatch):
    h = _harness(request.param, runtime, monkeypatch)
    if h.name == "mastodon":
        h.fake.boost_per_call = True  # GoToSocial: every reblog call is a new boost
    return h


@pytest.fixture
def gts(runtime, monkeypatch):
    """The Mastodon fake playing GoToSocial."""
    h = _harness("mastodon", runtime, monkeypatch)
    h.fake.boost_per_call = True
    return h


def faults(h):
    return (h.server if h.name == "bluesky" else h.fake).after_acting


def made(h, kind: str, post_id: str) -> int:
    """How many reposts (or quotes) of the post by the account the platform's fake holds."""
    if h.name == "mastodon":
        fake = h.fake
        if kind == "repost":
            return len(fake.boosts_of(post_id))
        mine = [s for s in fake.statuses.values() if s["account"]["id"] == fake.me["id"]]
        return sum(((s.get("quote") or {}).get("quoted_status") or {}).get("id") == post_id for s in mine)
    if h.name == "bluesky":
        if kind == "repost":
            return sum(r["subject"]["uri"] == post_id for r in h.server.my_records("app.bsky.feed.repost").values())
        posts = h.server.my_records("app.bsky.feed.post").values()
        return sum(((r.get("embed") or {}).get("record") or {}).get("uri") == post_id for r in posts)
    if kind == "repost":  # X keeps one retweet whatever is sent: count the calls
        return sum(r.method == "POST" and r.url.path.endswith("/retweets") for r in h.fake.requests)
    mine = [t for t in h.fake.tweets.values() if t["author_id"] == ME_ID]
    return sum(any(ref == {"type": "quoted", "id": post_id} for ref in t.get("referenced_tweets", [])) for t in mine)


async def _account_with_rule(client, admin, h, kind: str) -> dict:
    account = await _connect(client, admin, h, allow_without_consent=True)
    rule = {"name": "c", "query": "#coffee", "action": kind}
    if kind == "quote":
        rule["quote_template"] = "Worth a read: {url}"
    response = await client.post(f"{API}/accounts/{account['id']}/rules", json=rule, headers=admin)
    assert response.status_code == 201, response.text
    return account


@pytest.mark.parametrize("fault", [RESET, BAD_GATEWAY])
@pytest.mark.parametrize("kind", ["repost", "quote"])
async def test_an_answer_lost_after_the_platform_acted_leaves_exactly_one(client, admin, pipeline, harness, kind,
                                                                          fault):
    account = await _account_with_rule(client, admin, harness, kind)
    post_id = harness.add_post("plain", text="Fresh beans today #coffee")
    faults(harness).arm(fault)

    await pipeline.tick()
    await pipeline.tick()

    assert faults(harness).struck == 1
    done = await actions(client, admin, account["id"], status="done")
    assert [a["post_id"] for a in done] == [post_id], await actions(client, admin, account["id"])
    assert done[0]["platform_action_id"]
    assert made(harness, kind, post_id) == 1
    harness.validate_requests()  # the questions asked fit each platform's published API


def _gated(h, runtime, *, block: str, answers: dict | None = None):
    """The fake behind a transport whose first request to a path ending in `block` waits for
    `gate`; `answers` maps a path ending to a list of statuses to answer first (outages)."""
    gate, arrived, first = asyncio.Event(), asyncio.Event(), [True]
    answers = answers or {}

    async def handler(request: httpx.Request) -> httpx.Response:
        for ending, statuses in answers.items():
            if request.url.path.endswith(ending) and statuses:
                return httpx.Response(statuses.pop(0), json={"error": "Unavailable"})
        if request.url.path.endswith(block) and first[0]:
            first[0] = False
            arrived.set()
            await gate.wait()
        return h.fake.handle(request)

    runtime.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return gate, arrived


async def _the_action(runtime) -> Action:
    async with runtime.sessions() as session:
        return await session.scalar(select(Action))


async def test_a_worker_whose_lease_is_taken_over_records_nothing(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    gate, arrived = _gated(gts, runtime, block="/reblog")
    tick = asyncio.create_task(pipeline.tick())
    await asyncio.wait_for(arrived.wait(), 10)
    async with runtime.sessions() as session, session.begin():  # another worker took the row over
        await session.execute(update(Action).values(lease_owner="other-worker", lease_expires_at=utcnow()))
    gate.set()
    await tick

    action = await _the_action(runtime)
    assert (action.status, action.lease_owner, action.sent_at) == ("sending", "other-worker", None)
    assert made(gts, "repost", post_id) == 1
    await pipeline.tick()  # the lease ran out: reconcile asks the platform, which has the boost
    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done" and made(gts, "repost", post_id) == 1


async def test_a_send_that_outlasts_its_lease_keeps_it(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    runtime.settings.lease_seconds = 1  # renewed every third of a second while the call is out
    gate, arrived = _gated(gts, runtime, block="/reblog")
    tick = asyncio.create_task(pipeline.tick())
    await asyncio.wait_for(arrived.wait(), 10)
    first_expiry = (await _the_action(runtime)).lease_expires_at
    while utcnow() <= first_expiry:  # noqa: ASYNC110 - waits for the clock, which sets no event
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)

    other = Runtime.build(runtime.settings)
    other.http = runtime.http
    try:
        report = await Pipeline(other).tick()
    finally:
        await other.close()
    renewed = (await _the_action(runtime)).lease_expires_at
    gate.set()
    await tick

    assert report.reconciled == 0 and report.sent == 0
    assert renewed > first_expiry
    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done" and made(gts, "repost", post_id) == 1


async def test_a_failed_try_is_asked_about_before_it_is_sent_again(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    gts.fake.after_acting.arm(RESET)
    # Right after the reset the instance cannot be asked either (three GETs answer 503).
    status_path = f"/api/v1/statuses/{post_id}"
    _gated(gts, runtime, block="/never", answers={status_path: [503, 503, 503]})

    await pipeline.tick()
    [waiting] = await actions(client, admin, account["id"])
    assert waiting["status"] == "failed" and waiting["error"].startswith("outcome unknown")
    await pipeline.tick()

    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done" and made(gts, "repost", post_id) == 1


async def test_reconcile_never_resends_what_the_platform_cannot_vouch_for(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    assert made(gts, "repost", post_id) == 1
    async with runtime.sessions() as session, session.begin():  # the call went out, the worker died
        await session.execute(update(Action).values(status="sending", sent_at=None, lease_owner="dead",
                                                    lease_expires_at=utcnow()))
    # The instance cannot be asked for a while: reconcile's three GETs and the retry's three fail.
    _gated(gts, runtime, block="/never", answers={f"/api/v1/statuses/{post_id}": [503] * 6})

    await pipeline.tick()
    [waiting] = await actions(client, admin, account["id"])
    assert waiting["status"] == "failed" and "outcome unknown" in waiting["error"]
    assert made(gts, "repost", post_id) == 1
    await pipeline.tick()
    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done" and made(gts, "repost", post_id) == 1


async def test_undo_removes_every_boost_on_a_server_that_holds_several(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    author = (await actions(client, admin, account["id"]))[0]["author_handle"]
    fake = gts.fake
    for _ in range(2):  # boosts a blind re-send used to add on GoToSocial
        request = httpx.Request("POST", f"{fake.base}/api/v1/statuses/{post_id}/reblog",
                                headers={"Authorization": f"Bearer {fake.token}"})
        fake.handle(request)
    assert made(gts, "repost", post_id) == 3

    block = await client.post(f"{API}/accounts/{account['id']}/blocks",
                              json={"author": author, "undo_existing": True}, headers=admin)
    assert block.status_code == 201 and block.json()["undo_queued"] == 1
    await pipeline.tick()

    [undone] = await actions(client, admin, account["id"])
    assert undone["status"] == "undone"
    assert made(gts, "repost", post_id) == 0


async def test_an_undo_whose_lease_is_taken_over_records_nothing(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    [done] = await actions(client, admin, account["id"])
    assert (await client.post(f"{API}/actions/{done['id']}/undo", headers=admin)).status_code == 202
    gate, arrived = _gated(gts, runtime, block="/unreblog")
    tick = asyncio.create_task(pipeline.tick())
    await asyncio.wait_for(arrived.wait(), 10)
    async with runtime.sessions() as session, session.begin():  # another worker took the row over
        await session.execute(update(Action).values(lease_owner="other-worker", lease_expires_at=utcnow()))
    gate.set()
    await tick

    action = await _the_action(runtime)
    assert (action.status, action.lease_owner, action.undone_at) == ("undoing", "other-worker", None)
    assert made(gts, "repost", post_id) == 0
    await pipeline.tick()  # the lease ran out: the undo is done again (nothing left to remove)
    [undone] = await actions(client, admin, account["id"])
    assert undone["status"] == "undone" and made(gts, "repost", post_id) == 0


async def test_a_poll_whose_lease_is_taken_over_records_nothing(client, admin, pipeline, runtime, gts):
    from app.models import Cursor, SeenPost

    await _account_with_rule(client, admin, gts, "repost")
    gts.add_post("plain", text="Fresh beans today #coffee")
    gate, arrived = _gated(gts, runtime, block="/api/v1/timelines/home")
    tick = asyncio.create_task(pipeline.tick())
    await asyncio.wait_for(arrived.wait(), 10)
    async with runtime.sessions() as session, session.begin():  # another worker took the source over
        await session.execute(update(Cursor).where(Cursor.source == "home")
                              .values(lease_owner="other-worker", lease_expires_at=utcnow()))
    gate.set()
    await tick

    async with runtime.sessions() as session:
        cursor = await session.scalar(select(Cursor).where(Cursor.source == "home"))
        seen = await session.scalar(select(SeenPost.id))
    assert (cursor.lease_owner, cursor.position, cursor.poll_count, seen) == ("other-worker", None, 0, None)


async def test_a_reconcile_whose_lease_is_taken_over_records_nothing(client, admin, pipeline, runtime, gts):
    account = await _account_with_rule(client, admin, gts, "repost")
    post_id = gts.add_post("plain", text="Fresh beans today #coffee")
    await pipeline.tick()
    async with runtime.sessions() as session, session.begin():  # the call went out, the worker died
        await session.execute(update(Action).values(status="sending", sent_at=None, lease_owner="dead",
                                                    lease_expires_at=utcnow()))
    gate, arrived = _gated(gts, runtime, block=f"/api/v1/statuses/{post_id}")
    tick = asyncio.create_task(pipeline.tick())
    await asyncio.wait_for(arrived.wait(), 10)
    async with runtime.sessions() as session, session.begin():  # another worker took the row over
        await session.execute(update(Action).values(lease_owner="other-worker", lease_expires_at=utcnow()))
    gate.set()
    await tick

    action = await _the_action(runtime)
    assert (action.status, action.lease_owner) == ("sending", "other-worker")
    await pipeline.tick()
    [done] = await actions(client, admin, account["id"])
    assert done["status"] == "done" and made(gts, "repost", post_id) == 1
