"""XFeed polling in both spellings: every Post field, every source kind, the edges of since_id."""

import json

import pytest

from app.platforms.base import CredentialsInvalid, PlatformError
from app.platforms.x.cursor import XCursor
from app.platforms.x.normalize import posts_from_page


async def _fetch(h, source, cursor=None):
    async with h.http() as http:
        return await h.platform.feed_source(h.context(), http).fetch(source, cursor)


async def test_a_plain_post_fills_every_field(h):
    pid = h.add_post("plain", text="Good morning #Coffee @alice")
    (post,), cursor = await _fetch(h, "tag:coffee")
    assert cursor == pid
    assert post.id == pid and post.url == f"https://x.com/coffee_lover/status/{pid}"
    assert post.author.model_dump(exclude_none=True) == {
        "id": "2001",
        "handle": "coffee_lover",
        "display_name": "Coffee Lover",
        "followers_count": 321,
        "created_at": post.author.created_at,
        "bio": "I am coffee_lover",
    }
    assert post.author.created_at.year == 2019 and post.author.is_bot is None
    assert post.text == "Good morning #Coffee @alice" and post.lang == "en"
    assert post.hashtags == ["Coffee"] and post.mentions == ["alice"] and post.urls == []
    assert post.media_count == 0
    assert (post.is_reply, post.is_repost, post.is_quote, post.reply_to_author) == (False, False, False, None)
    h.validate_requests()


async def test_kinds_of_posts(h):
    reply, repost, quote, media = (h.add_post(k) for k in ("reply", "repost", "quote", "media_links"))
    async with h.http() as http:
        feed = h.platform.feed_source(h.context(), http)
        _, cursor = await feed.fetch("tag:nothing", None)
        posts, _ = await feed.fetch("tag:coffee", str(int(reply) - 1))
    by_id = {p.id: p for p in posts}
    assert by_id[reply].is_reply and by_id[reply].reply_to_author == "bob"
    # the ids a resolved `to:bob` and `@bob` match, whatever bob's handle is by then
    assert by_id[reply].reply_to_author_id == "2003" and by_id[reply].mention_ids == ["2003"]
    assert by_id[repost].is_repost and not by_id[repost].is_reply
    assert by_id[quote].is_quote and by_id[quote].quoted_post_id == h.fake.tweets[quote]["referenced_tweets"][0]["id"]
    assert by_id[media].media_count == 1 and by_id[media].urls == ["https://example.com/page"]
    assert XCursor.decode(cursor).start is not None  # an empty first poll keeps when it looked
    h.validate_requests()


async def test_user_source_resolves_the_handle_once(h):
    h.add_post("plain")
    carol = h.fake.add_tweet("2004", "carol's own #coffee")
    async with h.http() as http:
        feed = h.platform.feed_source(h.context(), http)
        posts, cursor = await feed.fetch("user:@Carol", None)
        assert await feed.fetch("user:carol", cursor) == ([], cursor)
    assert [p.id for p in posts] == [carol] and posts[0].author.handle == "carol"
    paths = [r.url.path for r in h.requests]
    assert paths.count("/2/users/by/username/Carol") == 1 and "/2/users/by/username/carol" not in paths
    assert paths.count("/2/users/2004/tweets") == 2
    h.validate_requests()


async def test_an_unknown_user_is_a_clear_error(hx):
    with pytest.raises(PlatformError, match="nobody_here"):
        await _fetch(hx, "user:nobody_here")


async def test_home_and_tags_sources(h):
    tea = h.fake.add_tweet("2002", "green #tea")
    coffee = h.add_post("plain")
    assert [p.id for p in (await _fetch(h, "tags:coffee,#tea"))[0]] == [tea, coffee]
    assert [p.id for p in (await _fetch(h, "home"))[0]] == [tea, coffee]
    assert h.requests[0].url.params["query"] == "#coffee OR #tea"
    h.validate_requests()


async def test_search_source_passes_the_query_through(hx):
    hx.add_post("plain", text="an espresso #coffee")
    posts, _ = await _fetch(hx, "search:espresso")
    assert len(posts) == 1 and hx.requests[0].url.params["query"] == "espresso"


async def test_unsupported_sources_are_refused(hx):
    for source in ("list:1", "public", "tag:", "tags:,", "search: "):
        with pytest.raises(PlatformError) as info:
            await _fetch(hx, source)
        assert not info.value.retryable


async def test_a_since_id_older_than_the_search_window_reads_the_window(hx):
    old = hx.add_post("plain")
    new = [hx.add_post("plain") for _ in range(3)]
    hx.fake.search_floor = int(old) + 1  # X refuses since_id older than 7 days with a 400
    posts, cursor = await _fetch(hx, "tag:coffee", old)
    assert [p.id for p in posts] == new and cursor == new[-1]
    assert "since_id" not in hx.requests[-1].url.params


async def test_a_poll_stopped_at_max_pages_reads_the_rest_on_the_next_polls(hx):
    start = hx.add_post("plain")
    added = [hx.add_post("plain") for _ in range(7)]
    ctx = hx.context()
    ctx.config["max_pages"] = 2
    async with hx.http() as http:
        feed = hx.platform.feed_source(ctx, http)
        posts, cursor = await feed.fetch("tag:coffee", start)
        assert [p.id for p in posts] == added[-4:]  # the newest pages first; the rest is kept as a gap
        meanwhile = hx.add_post("plain")
        rest, cursor = await feed.fetch("tag:coffee", cursor)
        assert [p.id for p in rest] == [*added[:3], meanwhile]
        assert cursor == meanwhile and await feed.fetch("tag:coffee", cursor) == ([], cursor)
    hx.validate_requests()


@pytest.mark.parametrize("source", ["tag:coffee", "user:coffee_lover", "home"])
async def test_an_empty_first_poll_then_a_burst_larger_than_a_page_is_read_whole(hx, source):
    ctx = hx.context()
    ctx.config["max_pages"] = 2
    async with hx.http() as http:
        feed = hx.platform.feed_source(ctx, http)
        posts, cursor = await feed.fetch(source, None)
        assert posts == [] and cursor is not None
        burst = [hx.fake.add_tweet("2001", f"burst {i} #coffee") for i in range(9)]  # 5 pages of 2
        read: list[str] = []
        for _ in range(4):
            posts, cursor = await feed.fetch(source, cursor)
            read += [p.id for p in posts]
    assert sorted(read) == burst and len(read) == len(set(read))
    assert XCursor.decode(cursor) == XCursor(head=burst[-1])
    hx.validate_requests()



async def test_the_request_asks_for_what_a_post_needs(hx):
    hx.add_post("plain")
    await _fetch(hx, "tag:coffee")
    params = hx.requests[0].url.params
    assert set(params["tweet.fields"].split(",")) >= {
        "author_id",
        "created_at",
        "entities",
        "lang",
        "referenced_tweets",
        "in_reply_to_user_id",
        "attachments",
    }
    assert set(params["expansions"].split(",")) == {
        "author_id",
        "referenced_tweets.id",
        "attachments.media_keys",
        "in_reply_to_user_id",
    }
    assert "public_metrics" in params["user.fields"].split(",")
    assert params["max_results"] == "10"


def test_an_author_missing_from_includes_is_known_by_id_only():
    body = {"data": [{"id": "5", "text": "hi", "author_id": "77", "edit_history_tweet_ids": ["5"]}]}
    (post,) = posts_from_page(json.loads(json.dumps(body)))
    assert post.author.id == "77" and post.author.handle == "" and post.author.followers_count is None
    assert post.url == "https://x.com/i/status/5" and post.created_at is None and post.lang is None


async def test_search_queries_in_our_syntax_are_translated_and_xs_own_kept(hx):
    hx.add_post("plain", text="an espresso #coffee")
    await _fetch(hx, "search:espresso is:repost")
    await _fetch(hx, "search:espresso place:rome")
    assert [r.url.params["query"] for r in hx.requests] == ["espresso is:retweet", "espresso place:rome"]


async def test_an_answer_with_an_id_that_is_not_digits_fails_the_poll_with_a_reason(hx):
    """Prism's mock of X's document answers ids such as "consequat dolore" (the document says
    `^[0-9]{1,19}$`): the poll crashed with a ValueError; now it is a PlatformError naming the id."""
    tid = hx.add_post("plain", text="#coffee from a mock")
    render = hx.fake._render_tweet
    hx.fake._render_tweet = lambda t, request: {**render(t, request),
                                                **({"id": "consequat dolore"} if t["id"] == tid else {})}
    with pytest.raises(PlatformError, match="consequat dolore") as raised:
        await _fetch(hx, "tag:coffee")
    assert raised.value.kind == "malformed"


async def test_a_refused_token_renewal_is_not_taken_for_a_since_id_too_old(hx):
    """X refuses a spent refresh token with a 400, the status it gives a since_id older than the
    search window: the feed must not search again (a second renewal with the same refresh token).
    Seen against Prism and our fake in docs/tryouts/issue10-recheck.md."""
    old = hx.add_post("plain")
    ctx = hx.context()
    hx.fake.access_token, hx.fake.refresh_token = "revoked-elsewhere", "spent-elsewhere"
    async with hx.http() as http:
        with pytest.raises(CredentialsInvalid):
            await hx.platform.feed_source(ctx, http).fetch("tag:coffee", old)
    assert [r.url.path for r in hx.requests].count("/2/oauth2/token") == 1


async def test_possibly_sensitive_is_asked_for_and_read(h):
    """Post.possibly_sensitive ("contains URLs marked as sensitive"): asked in the fields, read as
    `sensitive`; a post without links that X leaves it off is not sensitive, one with links unknown."""
    link = {"urls": [{"start": 0, "end": 8, "url": "https://t.co/a", "expanded_url": "https://example.com/a"}],
            "hashtags": [{"start": 9, "end": 16, "tag": "coffee"}]}
    marked = h.fake.add_tweet("2001", "https://t.co/a #coffee", entities=link, possibly_sensitive=True)
    unmarked = h.fake.add_tweet("2001", "https://t.co/b #coffee", entities=link, possibly_sensitive=False)
    unsaid = h.fake.add_tweet("2001", "https://t.co/c #coffee", entities=link)
    plain = h.fake.add_tweet("2001", "no links #coffee")
    posts, _ = await _fetch(h, "tag:coffee", str(int(marked) - 1))
    by_id = {p.id: p.sensitive for p in posts}
    assert by_id == {marked: True, unmarked: False, unsaid: None, plain: False}
    h.validate_requests()
