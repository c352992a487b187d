"""Push feeds: a streaming account's posts land in the inbox and are reposted like polled ones."""

import asyncio
from collections.abc import AsyncIterator

from app.pipeline.streamer import Streamer
from app.platforms.base import Post
from app.platforms.mock.platform import MockFeed, MockPlatform
from app.platforms.registry import get_platform, register
from tests.api.helpers import actions, make_account, make_rule, world


class PushingFeed(MockFeed):
    """The mock's feed with push: what a platform's streaming API delivers, from the mock world."""

    async def stream(self, sources: list[str]) -> AsyncIterator[Post]:
        sent = 0
        while True:
            posts = self.world.posts[sent:]
            sent += len(posts)
            for post in posts:
                yield post.model_copy(deep=True)
            await asyncio.sleep(0.01)


class PushingMock(MockPlatform):
    def feed_source(self, ctx, http):
        return PushingFeed(ctx, self.world(ctx))


async def test_streamed_posts_are_matched_and_reposted(client, admin, runtime, pipeline):
    original = get_platform("mock")
    register(PushingMock())
    streamer = Streamer(runtime)
    try:
        account = await make_account(client, admin, config={"stream": True})
        await make_rule(client, admin, account["id"], "#coffee")
        await streamer.sync()
        assert set(streamer.tasks) == {account["id"]}
        post = world().publish("alice", "pushed #coffee")
        for _ in range(100):
            await asyncio.sleep(0.02)
            await pipeline.tick(poll=False)
            if await actions(client, admin, account["id"], status="done"):
                break
        [done] = await actions(client, admin, account["id"], status="done")
        assert done["post_id"] == post.id
    finally:
        await streamer.stop()
        register(original)


async def test_a_streamed_post_holding_a_nul_is_stored_cleaned_and_reposted(client, admin, runtime, pipeline):
    # as a polled one (test_poller.py): on PostgreSQL it would fail its transaction, and be lost
    original = get_platform("mock")
    register(PushingMock())
    streamer = Streamer(runtime)
    try:
        account = await make_account(client, admin, config={"stream": True})
        await make_rule(client, admin, account["id"], "#coffee")
        await streamer.sync()
        post = world().publish("alice", "pushed\x00 with a lone \ud800 #coffee")
        for _ in range(100):
            await asyncio.sleep(0.02)
            await pipeline.tick(poll=False)
            if await actions(client, admin, account["id"], status="done"):
                break
        [done] = await actions(client, admin, account["id"], status="done")
        assert done["post_id"] == post.id
    finally:
        await streamer.stop()
        register(original)
