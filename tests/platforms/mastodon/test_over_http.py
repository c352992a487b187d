"""The whole adapter over a real socket: the fake instance served by uvicorn on localhost."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn

from app.platforms.base import AccountContext
from app.platforms.mastodon.login import exchange_code, start_login
from app.platforms.mastodon.platform import MastodonPlatform
from tests.platforms.mastodon.conftest import newest
from tests.platforms.mastodon.fake_server import FakeMastodon


@pytest.fixture
async def served():
    """A FakeMastodon listening on 127.0.0.1 (a free port); yields (fake, base_url)."""
    fake = FakeMastodon()
    config = uvicorn.Config(fake.asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="off", interface="asgi3")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.base = f"http://127.0.0.1:{port}"
    yield fake, fake.base
    server.should_exit = True
    await task


async def test_login_connect_poll_boost_and_stream_over_http(served):
    fake, base = served
    async with httpx.AsyncClient() as http:
        login = await start_login(http, base)
        token = await exchange_code(http, login, fake.authorize(login.authorize_url))
        config = {"base_url": base, "page_size": 2}
        ctx = AccountContext(handle="reposter_bot", config=config, credentials=token.credentials())
        platform = MastodonPlatform()
        ctx.platform_user_id = (await platform.connect(ctx, http)).platform_user_id
        assert fake.me["bot"] is True

        alice = fake.add_account("alice")
        fake.new_status(alice, "old #coffee")
        feed, actions = platform.feed_source(ctx, http), platform.action_client(ctx, http)
        _, cursor = await feed.fetch("tags:coffee,latteart", None)
        burst = [fake.new_status(alice, f"fresh {i} #latteart")["id"] for i in range(5)]
        posts, cursor = await feed.fetch("tags:coffee,latteart", cursor)
        assert [p.id for p in posts] == burst and newest(cursor) == burst[-1]

        boost = await actions.repost(posts[0])
        assert fake.reblogs == {posts[0].id: boost} and await actions.has_reposted(posts[0]) is True

        streamed = fake.render(fake.new_status(alice, "streamed #coffee"))
        fake.push_event("hashtag:coffee", "update", streamed)
        stream = feed.stream(["tag:coffee"])
        post = await asyncio.wait_for(anext(stream), timeout=5)
        await stream.aclose()
        assert post.id == streamed["id"] and post.text == "streamed #coffee"
