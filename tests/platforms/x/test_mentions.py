"""The `mentions` source on X: GET /2/users/:id/mentions, polled with since_id as the other timelines."""

from app.engine.stop_words import stop_word_in


async def _fetch(h, source, cursor=None):
    async with h.http() as http:
        return await h.platform.feed_source(h.context(), http).fetch(source, cursor)


async def test_mentions_of_the_account_are_read_by_author_id(h):
    said = h.fake.add_tweet("2002", "@reposter_acct stop please")
    h.fake.add_tweet("2003", "@alice nonstop coffee")  # mentions someone else
    (post,), cursor = await _fetch(h, "mentions")
    assert post.id == said and post.author.id == "2002" and stop_word_in(post.text, ["stop"]) == "stop"
    later = h.fake.add_tweet("2003", "@reposter_acct #nobot")
    (again,), cursor = await _fetch(h, "mentions", cursor)
    assert again.id == later and stop_word_in(again.text, ["#nobot"]) == "#nobot"
    assert (await _fetch(h, "mentions", cursor))[0] == []
    assert all(r.url.path == "/2/users/1000/mentions" for r in h.fake.requests if "mentions" in r.url.path)
    h.validate_requests()
