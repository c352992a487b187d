"""Each adapter names the rate-limit bucket a 429 exhausted, as its platform documents them."""

from datetime import UTC, datetime, timedelta

import pytest

from app.platforms.base import SHARED_BUCKET, RateLimited
from app.platforms.bluesky.platform import BlueskyPlatform
from app.platforms.bluesky.xrpc import bluesky_bucket
from app.platforms.http import RetryPolicy
from app.platforms.mastodon.actions import MastodonActionClient
from app.platforms.mastodon.feed import MastodonFeedSource
from app.platforms.mastodon.normalize import status_to_post
from app.platforms.mastodon.platform import MastodonPlatform
from app.platforms.x.actions import XActions
from app.platforms.x.client import XClient
from app.platforms.x.feed import XFeed
from app.platforms.x.platform import XPlatform
from tests.platforms.harness_x import XHarness
from tests.platforms.mastodon.conftest import context
from tests.platforms.mastodon.fake_server import FakeMastodon, rate_limit_headers


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    async def pause(self, seconds):
        return None

    monkeypatch.setattr(RetryPolicy, "pause", pause)


async def test_x_limits_each_endpoint_on_its_own():
    h = XHarness("tweet")
    post_id = h.add_post("plain", text="beans #coffee")
    h.fake.exhaust("GET", "/2/tweets/search/recent", seconds=900)
    async with h.http() as http:
        with pytest.raises(RateLimited) as info:
            await XFeed(XClient(h.context(), http)).fetch("tag:coffee", None)
        assert info.value.bucket == "search" and not info.value.shared
        posts, _ = await XFeed(XClient(h.context(), http)).fetch("user:coffee_lover", None)  # another endpoint
        assert post_id in {p.id for p in posts}
        await XActions(XClient(h.context(), http)).repost(posts[-1])  # retweets: their own limit
        assert h.is_reposted(post_id)
        h.fake.exhaust("POST", "/2/users/1000/retweets", seconds=900)
        with pytest.raises(RateLimited) as info:
            await XActions(XClient(h.context(), http)).repost(posts[-1])
    assert info.value.bucket == XPlatform().rate_bucket("repost") == "retweets"
    assert XPlatform().rate_bucket("quote") == "create_post" and XPlatform().rate_bucket("undo:repost") == "unretweet"


async def test_mastodon_calls_share_the_accounts_budget_but_unboosts_have_their_own():
    fake = FakeMastodon()
    status = fake.new_status(fake.add_account("alice"), "boost me")
    post = status_to_post(fake.render(status))
    fake.fail_next(429, rate_limit_headers(300))
    with pytest.raises(RateLimited) as info:
        await MastodonFeedSource(context(fake), fake.client()).fetch("home", None)
    assert info.value.bucket == SHARED_BUCKET and info.value.shared
    actions = MastodonActionClient(context(fake), fake.client())
    boost = await actions.repost(post)
    fake.fail_next(429, rate_limit_headers(1800))
    with pytest.raises(RateLimited) as info:
        await actions.undo(post, boost)
    assert info.value.bucket == MastodonPlatform().rate_bucket("undo:repost") == "deletes"
    assert MastodonPlatform().rate_bucket("repost") == SHARED_BUCKET


def test_bluesky_writes_logins_and_reads_are_limited_apart():
    assert bluesky_bucket("POST", "/xrpc/com.atproto.repo.createRecord") == "repo_write"
    assert bluesky_bucket("POST", "/xrpc/com.atproto.repo.deleteRecord") == "repo_write"
    assert bluesky_bucket("POST", "/xrpc/com.atproto.server.createSession") == "session"
    assert bluesky_bucket("GET", "/xrpc/app.bsky.feed.searchPosts") == "read"
    platform = BlueskyPlatform()
    assert {platform.rate_bucket(k) for k in ("repost", "quote", "like", "undo:repost")} == {"repo_write"}


def test_a_rate_limit_without_a_bucket_is_the_accounts_whole_budget():
    limited = RateLimited("429", retry_at=datetime.now(UTC) + timedelta(minutes=1))
    assert limited.bucket == SHARED_BUCKET and limited.shared
