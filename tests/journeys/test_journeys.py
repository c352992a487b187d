"""The journeys of ../shared/journeys.md, as their users live them, through the API and the pipeline."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.auth.caller import Role
from app.models import Action
from tests.api.helpers import API, actions, by_post, ingest, make_account, make_rule, world
from tests.conftest import make_token


async def test_university_community(client, admin, pipeline, runtime):
    """Journey 1: #uni_news by followers, duplicates once, quiet hours hold and then space the queue."""
    w = world()
    for student in ("ana", "ben", "cleo"):
        w.add_author(student, followers_count=40)
        w.follow(student, "uni_news")
    w.add_author("visitor", followers_count=40)
    account = await make_account(client, admin, handle="uni_news")
    await make_rule(client, admin, account["id"], "#uni_news", scope="followers")
    await client.put(f"{API}/accounts/{account['id']}/filters", json={"duplicate_window_minutes": 10}, headers=admin)

    tagged = w.publish("ana", "Library open late tonight #uni_news")
    stranger = w.publish("visitor", "Hello #uni_news")
    again = [w.publish("ben", "Exam timetable is out! #uni_news") for _ in range(3)]
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert log[tagged.id]["status"] == "done"
    assert log[stranger.id]["reason"] == "scope: not a follower"
    assert [log[p.id]["status"] for p in again] == ["done", "skipped", "skipped"]
    assert all(log[p.id]["reason"].startswith("filter: duplicate text") for p in again[1:])

    # Exam week: quiet hours covering now; night posts wait, then go out spaced by min_interval.
    now = datetime.now(UTC)
    quiet = {"quiet_hours_start": (now - timedelta(hours=1)).strftime("%H:%M"),
             "quiet_hours_end": (now + timedelta(hours=3)).strftime("%H:%M"), "min_interval_seconds": 300}
    patched = await client.patch(f"{API}/accounts/{account['id']}", json={"limits": quiet}, headers=admin)
    assert patched.status_code == 200
    night = [w.publish(s, f"{s} studying late #uni_news") for s in ("ana", "ben", "cleo")]
    await pipeline.tick()
    waiting = list(await actions(client, admin, account["id"], status="queued"))
    assert {a["post_id"] for a in waiting} == {p.id for p in night}
    # Morning comes: lift the quiet hours (as the clock would) and make the sends due.
    await client.patch(f"{API}/accounts/{account['id']}", json={"limits": {"min_interval_seconds": 300}}, headers=admin)
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Action).where(Action.status == "done").values(sent_at=now - timedelta(hours=1)))
        await session.execute(update(Action).where(Action.status == "queued").values(next_attempt_at=now))
    await pipeline.tick()
    log = by_post(await actions(client, admin, account["id"]))
    assert [log[p.id]["status"] for p in night] == ["done", "queued", "queued"]  # one now, the rest spaced
    spaced = datetime.fromisoformat(log[night[1].id]["next_attempt_at"])
    assert spaced >= datetime.fromisoformat(log[night[0].id]["sent_at"]) + timedelta(seconds=299)
    reposts = [k for k in w.reposts if k[0] == "uni_news"]
    assert len(reposts) == len(set(reposts)) == 3


async def test_espresso_shop(client, admin, pipeline):
    """Journey 2: preview with explanations, review mode, block a competitor with undo_existing."""
    w = world()
    w.add_author("fan", followers_count=900)
    w.add_author("newbie", followers_count=12)
    w.add_author("rival_roasters", followers_count=5000)
    account = await make_account(client, admin, handle="espresso_shop")
    filters = {"min_followers": 200, "banned_words": ["giveaway", "crypto"]}
    await client.put(f"{API}/accounts/{account['id']}/filters", json=filters, headers=admin)
    query = '(espresso OR "latte art") lang:en -is:reply -has:links'
    seen = [w.publish("fan", "Latte art at home is hard", lang="en"),
            w.publish("newbie", "espresso rocks", lang="en"),
            w.publish("fan", "espresso giveaway!", lang="en"),
            w.publish("fan", "espresso shop https://x.example", lang="en", urls=["https://x.example"]),
            w.publish("rival_roasters", "Our espresso is the best", lang="en")]
    await ingest(client, admin, seen)

    preview = await client.post(f"{API}/accounts/{account['id']}/preview", json={"query": query}, headers=admin)
    assert preview.status_code == 200, preview.text
    items = {i["post"]["id"]: i for i in preview.json()["items"]}
    assert items[seen[0].id]["would"] == "queued"
    assert items[seen[1].id]["reason"] == "filter: min_followers 200: author has 12"
    assert items[seen[2].id]["reason"] == "filter: banned word 'giveaway'"
    assert items[seen[3].id]["would"] == "no match"
    assert {"term": "-has:links", "held": False} in items[seen[3].id]["terms"]

    rule = await make_rule(client, admin, account["id"], query, review=True)
    fresh = [w.publish("fan", "espresso sunrise", lang="en"), w.publish("rival_roasters", "espresso deals", lang="en")]
    await ingest(client, admin, fresh)
    await pipeline.tick(poll=False)
    queue = by_post(await actions(client, admin, account["id"], status="review"))
    for post in fresh:
        assert (await client.post(f"{API}/actions/{queue[post.id]['id']}/approve", headers=admin)).status_code == 200
    await pipeline.tick(poll=False)
    assert ("espresso_shop", fresh[1].id) in w.reposts

    block = {"author": "rival_roasters", "reason": "competitor", "undo_existing": True}
    blocked = await client.post(f"{API}/accounts/{account['id']}/blocks", json=block, headers=admin)
    assert blocked.json()["undo_queued"] == 1
    await pipeline.tick(poll=False)
    assert ("espresso_shop", fresh[1].id) not in w.reposts and ("espresso_shop", fresh[0].id) in w.reposts
    undone = {"account_id": account["id"], "action": "action.undone"}
    audit = (await client.get(f"{API}/audit", params=undone, headers=admin)).json()
    assert audit["total"] == 1 and rule["review"] is True


async def test_moderator_of_a_busy_hashtag(client, admin, pipeline, runtime):
    """Journey 3: a moderator token for one account blocks a spammer, undoes a repost, is fenced in."""
    w = world()
    for handle in ("spammer", "regular"):
        w.add_author(handle, followers_count=100)
    community = await make_account(client, admin, handle="busytag")
    other = await make_account(client, admin, handle="elsewhere")
    await make_rule(client, admin, community["id"], "#busytag")
    await make_rule(client, admin, other["id"], "#other")
    await client.patch(f"{API}/accounts/{community['id']}", json={"limits": {"max_per_hour": 2}}, headers=admin)
    moderator = await make_token(runtime, Role.moderator, [community["id"]])

    posts = [w.publish("regular", "good #busytag"), w.publish("spammer", "buy #busytag"),
             w.publish("spammer", "buy now #busytag"), w.publish("spammer", "last chance #busytag")]
    await ingest(client, admin, posts)
    await pipeline.tick(poll=False)  # two go out (limit), two spam posts wait
    block = await client.post(f"{API}/accounts/{community['id']}/blocks",
                              json={"author": "spammer", "reason": "spam"}, headers=moderator)
    assert block.status_code == 201 and block.json()["unqueued"] == 2
    log = by_post(await actions(client, admin, community["id"]))
    assert [log[p.id]["status"] for p in posts[2:]] == ["skipped", "skipped"]

    undo = await client.post(f"{API}/actions/{log[posts[1].id]['id']}/undo", headers=moderator)
    assert undo.status_code == 202
    await pipeline.tick(poll=False)
    assert ("busytag", posts[1].id) not in w.reposts

    assert (await client.get(f"{API}/accounts/{other['id']}/rules", headers=moderator)).status_code == 404
    assert (await client.get(f"{API}/accounts/{other['id']}/blocks", headers=moderator)).status_code == 404
    assert (await client.get(f"{API}/accounts/{other['id']}/actions", headers=moderator)).status_code == 404
    rule = (await client.get(f"{API}/accounts/{community['id']}/rules", headers=moderator)).json()["items"][0]
    assert (await client.patch(f"{API}/rules/{rule['id']}", json={"query": "#x"}, headers=moderator)).status_code == 403

    audit = await client.get(f"{API}/audit", params={"account_id": community["id"]}, headers=moderator)
    events = audit.json()["items"]
    by_action = {e["action"]: e for e in events}
    assert "moderator" in by_action["block.create"]["actor"] and "moderator" in by_action["action.undo"]["actor"]
    assert by_action["action.undone"]["at"]
