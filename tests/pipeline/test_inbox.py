"""The inbox: a post lands once, whoever delivers it and however often; old matched posts leave."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.db.base import utcnow
from app.db.session import transaction
from app.models import SeenPost
from app.pipeline import inbox
from app.platforms.base import Author, Post


def post(id_: str, **fields) -> Post:
    return Post(platform="mock", id=id_, author=Author(id="a1", handle="@Alice"), text=f"post {id_}", **fields)


async def rows(runtime) -> list[SeenPost]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(SeenPost).order_by(SeenPost.id)))


async def test_a_post_lands_once_however_often_and_by_whomever_it_is_delivered(runtime):
    async with transaction(runtime.sessions) as session:
        assert await inbox.store(session, [post("1"), post("2"), post("1")]) == 2
    async with transaction(runtime.sessions) as session:
        assert await inbox.store(session, [post("2"), post("3")], source_account_id=None) == 1
        assert await inbox.store(session, []) == 0
    stored = await rows(runtime)
    assert [r.post_id for r in stored] == ["1", "2", "3"]
    assert stored[0].author_handle == "alice" and inbox.post_of(stored[0]) == post("1")


async def test_the_same_status_id_on_two_instances_is_two_posts(runtime):
    here, there = post("9", ref={"instance": "a.example"}), post("9", ref={"instance": "b.example"})
    assert (inbox.inbox_key(here), inbox.inbox_key(post("9"))) == ("a.example/9", "9")
    async with transaction(runtime.sessions) as session:
        assert await inbox.store(session, [here, there, here]) == 2
    assert [r.post_id for r in await rows(runtime)] == ["a.example/9", "b.example/9"]


async def test_a_large_delivery_is_stored_whole_in_chunks(runtime):
    async with transaction(runtime.sessions) as session:
        assert await inbox.store(session, [post(str(i)) for i in range(1203)]) == 1203
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SeenPost)) == 1203


async def test_prune_forgets_only_old_posts_the_matcher_has_read(runtime):
    async with transaction(runtime.sessions) as session:
        await inbox.store(session, [post("old-read"), post("old-unread"), post("new")])
    first, _, third = await rows(runtime)
    async with transaction(runtime.sessions) as session:
        await session.execute(update(SeenPost).where(SeenPost.id != third.id)
                              .values(seen_at=utcnow() - timedelta(days=30)))
    async with transaction(runtime.sessions) as session:
        gone = await inbox.prune(session, older_than=utcnow() - timedelta(days=1), matched_through=first.id)
    assert gone == 1
    assert [r.post_id for r in await rows(runtime)] == ["old-unread", "new"]
