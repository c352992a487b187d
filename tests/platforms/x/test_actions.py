"""XActions and XPlatform.connect on the fake: retweets, quotes, likes refused, has_reposted."""

import json

import pytest

from app.platforms.base import ActionRefused, CredentialsInvalid, PostGone
from app.platforms.registry import get_platform


async def _post(h, kind="plain"):
    pid = h.add_post(kind)
    async with h.http() as http:
        posts, _ = await h.platform.feed_source(h.context(), http).fetch("tag:coffee", None)
    return next(p for p in posts if p.id == pid)


async def test_the_registry_knows_x():
    platform = get_platform("x")
    assert platform.name == "x" and platform.can_like is False
    assert platform.default_limits["windows"]["repost"] == [(50, 900)]
    assert platform.default_limits["windows"]["undo"] == [(50, 900), (1, 18)]  # one unretweet per 18 s
    assert 900 / platform.default_limits["min_interval_seconds"] <= 50


async def test_retweet_then_undo_calls_what_x_documents(h):
    post = await _post(h)
    async with h.http() as http:
        client = h.platform.action_client(h.context(), http)
        assert await client.repost(post) == post.id
        assert await client.has_reposted(post) is True
        await client.undo(post, post.id)
        assert await client.has_reposted(post) is False
    calls = [(r.method, r.url.path) for r in h.requests if "retweets" in r.url.path]
    assert calls == [("POST", "/2/users/1000/retweets"), ("DELETE", f"/2/users/1000/retweets/{post.id}")]
    assert json.loads(next(r for r in h.requests if r.method == "POST").content) == {"tweet_id": post.id}
    h.validate_requests()


@pytest.mark.parametrize("refused", [False, True])
async def test_retweeting_twice_is_not_an_error(hx, refused):
    post = await _post(hx)
    hx.fake.retweeted.add(post.id)
    hx.fake.refuse_double_retweet = refused
    async with hx.http() as http:
        assert await hx.platform.action_client(hx.context(), http).repost(post) == post.id


async def test_undoing_a_retweet_of_a_deleted_post_is_gone(hx):
    post = await _post(hx)
    hx.fail_next(404)
    async with hx.http() as http:
        with pytest.raises(PostGone):
            await hx.platform.action_client(hx.context(), http).undo(post, post.id)


async def test_quote_then_undo_deletes_the_quote(h):
    post = await _post(h)
    async with h.http() as http:
        client = h.platform.action_client(h.context(), http)
        quote_id = await client.quote(post, "Worth reading")
        assert h.fake.tweets[quote_id]["referenced_tweets"] == [{"type": "quoted", "id": post.id}]
        await client.undo(post, quote_id, kind="quote")
        assert quote_id not in h.fake.tweets
        with pytest.raises(PostGone):
            await client.undo(post, quote_id, kind="quote")
    sent = next(r for r in h.requests if r.method == "POST" and r.url.path == "/2/tweets")
    assert json.loads(sent.content) == {"text": "Worth reading", "quote_tweet_id": post.id}
    h.validate_requests()


async def test_likes_are_refused_without_calling_x(hx):
    post = await _post(hx)
    before = len(hx.requests)
    async with hx.http() as http:
        client = hx.platform.action_client(hx.context(), http)
        with pytest.raises(ActionRefused, match="automated likes"):
            await client.like(post)
        with pytest.raises(ActionRefused):
            await client.undo(post, "x", kind="like")
    assert len(hx.requests) == before


async def test_has_reposted_pages_through_the_retweeters(hx):
    post = await _post(hx)
    hx.fake.retweeters[post.id] = ["2002", "2003", "2004", "2005"]
    hx.fake.retweeted.add(post.id)  # the account comes last: page 3 of 3
    async with hx.http() as http:
        client = hx.platform.action_client(hx.context(), http)
        assert await client.has_reposted(post) is True
        hx.fake.retweeted.clear()
        assert await client.has_reposted(post) is False
    hx.validate_requests()


async def test_has_reposted_is_unknown_past_its_page_budget(hx):
    post = await _post(hx)
    hx.fake.retweeters[post.id] = [str(3000 + i) for i in range(20)]
    for uid in hx.fake.retweeters[post.id]:
        hx.fake.add_user(uid, f"fan{uid}")
    async with hx.http() as http:
        assert await hx.platform.action_client(hx.context(), http).has_reposted(post) is None
    assert sum("retweeted_by" in r.url.path for r in hx.requests) == 5


async def test_followers_following_and_list_members(h):
    h.set_followers(["carol", "dave", "erin"])
    h.fake.following = ["2002"]
    h.fake.lists["55"] = ["2003", "2004"]
    async with h.http() as http:
        client = h.platform.action_client(h.context(), http)
        assert await client.followers() == {"2004", "carol", "2005", "dave", h.fake.user_id("erin"), "erin"}
        assert await client.following() == {"2002", "alice"}
        assert await client.list_members("55") == {"2003", "bob", "2004", "carol"}
    assert {r.url.params["max_results"] for r in h.requests if "members" in r.url.path} == {"100"}
    h.validate_requests()


async def test_connect_says_who_the_token_belongs_to(h):
    async with h.http() as http:
        account = await h.platform.connect(h.context(), http)
    assert (account.platform_user_id, account.handle, account.display_name) == (
        "1000",
        "reposter_acct",
        "Reposter Acct",
    )
    h.validate_requests()


async def test_connect_with_a_bad_token(hx):
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await hx.platform.connect(hx.context(access_token="wrong", refresh_token=None), http)


async def test_fetch_post_follows_an_edit_to_its_latest_version_and_sees_a_deletion(h):
    post = await _post(h)
    async with h.http() as http:
        client = h.platform.action_client(h.context(), http)
        same = await client.fetch_post(post)
        assert same.text == post.text and same.hashtags == post.hashtags
        newest = h.fake.edit_tweet(post.id, "hello world, no tag now")
        edited = await client.fetch_post(post)
        assert edited.id == newest and edited.text == "hello world, no tag now" and edited.hashtags == []
        del h.fake.tweets[post.id], h.fake.tweets[newest]
        assert await client.fetch_post(post) is None
    h.validate_requests()


async def test_lookup_author_by_username_or_id_and_nobody(h):
    client = h.platform.action_client(h.context(), h.http())
    h.fake.add_user("2099", "lookme", followers=12)
    for name in ("lookme", "LookMe", "2099"):
        found = await client.lookup_author(name)
        assert (found.id, found.handle, found.followers_count) == ("2099", "lookme", 12), name
    assert await client.lookup_author("nobody_here") is None
    assert await client.lookup_author("not a name") is None
