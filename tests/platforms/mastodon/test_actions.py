"""Connecting, boosting, favouriting, quoting and the follow graph against the fake instance."""

from __future__ import annotations

import json

import httpx
import pytest

from app.pipeline.outcome import render_quote
from app.platforms.base import ActionRefused, CredentialsInvalid, PlatformError, PostGone
from app.platforms.mastodon.actions import MastodonActionClient
from app.platforms.mastodon.normalize import status_to_post
from app.platforms.mastodon.platform import MastodonPlatform
from tests.platforms.mastodon.conftest import context


def post_of(fake, status):
    return status_to_post(fake.render(status))


async def test_connect_checks_the_token_and_sets_the_bot_flag(fake, contract):
    account = await MastodonPlatform().connect(context(fake), fake.client())
    assert account.platform_user_id == fake.me["id"]
    assert account.handle == "reposter_bot@social.example"
    assert fake.me["bot"] is True
    patch = [ex.request for ex in fake.exchanges if ex.request.method == "PATCH"]
    assert [r.content for r in patch] == [b"bot=true"]  # the form value: Takahē ignores a JSON true
    assert account.warnings == []
    fake.validate(contract)


async def test_connect_leaves_an_existing_bot_flag_alone(fake):
    fake.me["bot"] = True
    await MastodonPlatform().connect(context(fake), fake.client())
    assert [ex.request.method for ex in fake.exchanges] == ["GET"]


async def test_connect_with_a_bad_token_says_so(fake):
    ctx = context(fake)
    ctx.credentials = {"access_token": "wrong"}
    with pytest.raises(CredentialsInvalid):
        await MastodonPlatform().connect(ctx, fake.client())
    ctx.credentials = {}
    with pytest.raises(CredentialsInvalid, match="no access_token"):
        await MastodonPlatform().connect(ctx, fake.client())


async def test_connect_without_the_write_accounts_scope_connects_with_a_bot_flag_warning(fake):
    def forbidden(request):
        if request.method == "PATCH":
            return httpx.Response(403, json={"error": "This action is outside the authorized scopes"})
        return fake.handle(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(forbidden))
    account = await MastodonPlatform().connect(context(fake), http)
    assert [(w.code, w.http_status) for w in account.warnings] == [("bot_flag", 403)]


async def test_boost_has_reposted_and_unboost(fake, actions, contract):
    status = fake.new_status(fake.add_account("alice"), "boost me")
    post = post_of(fake, status)
    assert await actions.has_reposted(post) is False
    boost_id = await actions.repost(post)
    assert fake.reblogs == {status["id"]: boost_id}
    assert await actions.has_reposted(post) is True
    assert await actions.repost(post) == boost_id  # boosting twice is not an error
    await actions.undo(post, boost_id)
    assert fake.reblogs == {} and await actions.has_reposted(post) is False
    fake.validate(contract)


async def test_acting_on_a_boost_acts_on_the_boosted_status(fake, actions):
    original = fake.new_status(fake.add_account("carol"), "the original")
    boost = fake.new_status(fake.add_account("alice"), "", reblog_of=original["id"])
    post = post_of(fake, boost)
    await actions.repost(post)
    assert original["id"] in fake.reblogs
    await actions.undo(post, None)
    assert original["id"] not in fake.reblogs
    paths = [ex.request.url.path for ex in fake.exchanges]
    assert all(boost["id"] not in p for p in paths)


async def test_undo_of_a_deleted_status_is_post_gone(fake, actions):
    status = fake.new_status(fake.add_account("alice"), "soon gone")
    post = post_of(fake, status)
    del fake.statuses[status["id"]]
    with pytest.raises(PostGone):
        await actions.undo(post, "1")
    with pytest.raises(PostGone):
        await actions.has_reposted(post)


async def test_favourite_and_unfavourite(fake, actions, contract):
    status = fake.new_status(fake.add_account("alice"), "like me")
    post = post_of(fake, status)
    assert await actions.like(post) == status["id"]
    assert status["id"] in fake.favourites
    await actions.undo(post, status["id"], kind="like")
    assert fake.favourites == set()
    fake.validate(contract)


async def test_quote_links_the_post_and_quotes_it_natively(fake, actions, contract):
    status = fake.new_status(fake.add_account("alice"), "quote me")
    post = post_of(fake, status)
    quote_id = await actions.quote(post, "Worth reading")
    request = fake.exchanges[-1].request
    body = json.loads(request.content)
    assert body == {"status": f"Worth reading\n\n{post.url}", "visibility": "public", "quoted_status_id": status["id"]}
    assert request.headers["Idempotency-Key"] == f"reposter-quote-{status['id']}"
    created = fake.statuses[quote_id]
    assert created["quote"]["quoted_status"]["id"] == status["id"]
    await actions.undo(post, quote_id, kind="quote")
    assert quote_id not in fake.statuses
    fake.validate(contract)


async def test_a_quote_whose_text_has_the_url_carries_it_once(fake, actions):
    status = fake.new_status(fake.add_account("alice"), "quote me")
    post = post_of(fake, status)
    quote_id = await actions.quote(post, render_quote("Look: {url} via {author}", post, None))
    body = json.loads(fake.exchanges[-1].request.content)
    assert body["status"] == f"Look: {post.url} via @alice" and body["status"].count(post.url) == 1
    other = post_of(fake, fake.new_status(fake.add_account("bob"), "me too"))
    await actions.quote(other, render_quote(None, other, None))  # the default template: `{url}`
    assert json.loads(fake.exchanges[-1].request.content)["status"] == other.url
    assert quote_id in fake.statuses


async def test_a_quote_the_author_does_not_allow_is_refused_not_linked(fake, actions):
    status = fake.new_status(fake.add_account("alice"), "do not quote me")
    fake.unquotable.add(status["id"])
    with pytest.raises(ActionRefused, match="refused to quote"):
        await actions.quote(post_of(fake, status), "Look")
    assert [ex.request.method for ex in fake.exchanges] == ["POST"]  # no second, link-only try


async def test_a_quote_too_long_keeps_mastodons_own_message(fake):
    def too_long(request):
        body = {"error": "Validation failed: Text character limit of 500 exceeded"}
        return httpx.Response(422, json=body)

    post = post_of(fake, fake.new_status(fake.add_account("alice"), "x"))
    actions = MastodonActionClient(context(fake), httpx.AsyncClient(transport=httpx.MockTransport(too_long)))
    with pytest.raises(PlatformError, match="character limit") as info:
        await actions.quote(post, "x" * 600)
    assert not isinstance(info.value, ActionRefused) and info.value.retryable is False


async def test_link_only_quotes_when_native_quotes_are_off(fake):
    status = fake.new_status(fake.add_account("alice"), "quote me")
    actions = MastodonActionClient(context(fake, native_quotes=False), fake.client())
    await actions.quote(post_of(fake, status), "See")
    assert "quoted_status_id" not in json.loads(fake.exchanges[-1].request.content)


async def test_undo_of_a_quote_needs_its_id(fake, actions):
    post = post_of(fake, fake.new_status(fake.add_account("alice"), "x"))
    with pytest.raises(PlatformError, match="without its status id"):
        await actions.undo(post, None, kind="quote")


async def test_followers_follow_the_link_header_over_every_page(fake, actions, contract):
    names = [f"member{n}" for n in range(170)]
    fake.followers = [fake.add_account(n)["id"] for n in names]
    fake.followers.append(fake.add_account("eve", domain="far.example")["id"])
    followers = await actions.followers()
    assert {*names, "eve@far.example"} <= followers
    assert set(fake.followers) <= followers
    pages = [ex.request for ex in fake.exchanges if ex.request.url.path.endswith("/followers")]
    assert len(pages) == 3 and pages[0].url.params["limit"] == "80"
    assert "max_id" in pages[1].url.params  # taken from the Link header, never computed
    fake.validate(contract)


async def test_following_and_list_members(fake, actions, contract):
    fake.following = [fake.add_account("frank")["id"]]
    fake.lists["3"] = [fake.add_account("grace")["id"]]
    assert "frank" in await actions.following()
    assert "grace" in await actions.list_members("3")
    fake.validate(contract)


async def test_own_id_is_looked_up_when_the_context_lacks_it(fake, actions):
    fake.followers = [fake.add_account("carol")["id"]]
    assert "carol" in await actions.followers()
    assert fake.exchanges[0].request.url.path == "/api/v1/accounts/verify_credentials"
    await actions.following()
    verify = [ex for ex in fake.exchanges if ex.request.url.path.endswith("verify_credentials")]
    assert len(verify) == 1


async def test_fetch_post_sees_an_edit_and_a_deletion(fake, actions, contract):
    status = fake.new_status(fake.add_account("alice"), "beans #coffee")
    post = post_of(fake, status)
    assert (await actions.fetch_post(post)).hashtags == ["coffee"]
    fake.edit_status(status["id"], "beans, no tag")
    edited = await actions.fetch_post(post)
    assert edited.id == post.id and edited.text == "beans, no tag" and edited.hashtags == []
    del fake.statuses[status["id"]]
    assert await actions.fetch_post(post) is None
    fake.validate(contract)


@pytest.mark.parametrize("takahe", [False, True])
async def test_lookup_author_gives_the_account_id_and_its_canonical_acct_on_either_kind_of_server(takahe, contract):
    """Mastodon reports a local account's acct as `alice`, Takahē as `alice@social.example`:
    either way the author is the account id, shown as `alice@social.example`."""
    from tests.platforms.mastodon.fake_server import FakeMastodon

    fake = FakeMastodon(local_acct_with_domain=takahe)
    alice = fake.add_account("alice")
    remote = fake.add_account("remy", domain="mastodon.social")
    client = MastodonActionClient(context(fake), fake.client())
    for name in ("alice", "alice@social.example", alice["id"]):
        found = await client.lookup_author(name)
        assert (found.id, found.handle) == (alice["id"], "alice@social.example"), name
    assert (await client.lookup_author("remy@mastodon.social")).id == remote["id"]
    assert await client.lookup_author("nobody") is None
    assert await client.lookup_author("999999999") is None
    fake.validate(contract)


async def test_a_takahe_reached_at_a_host_that_is_not_its_domain_still_finds_bare_names(contract):
    """Seen on a real Takahē (API at 127.0.0.1:18300, handles on takahe.test): `lookup?acct=bob`
    is a 404 there, so a block of `@carol`, `from:bob` and `users:[bob]` were refused as nobody."""
    from tests.platforms.mastodon.fake_server import FakeMastodon

    fake = FakeMastodon.takahe(local_acct_with_domain=True)
    bob = fake.add_account("bob")
    client = MastodonActionClient(context(fake, base_url="http://127.0.0.1:18300"), fake.client())
    for name in ("bob", "@bob", "bob@social.example"):
        found = await client.lookup_author(name)
        assert found is not None and (found.id, found.handle) == (bob["id"], "bob@social.example"), name
    assert await client.lookup_author("nobody") is None


async def test_statuses_carry_the_ids_of_mentioned_and_replied_to_accounts(fake):
    bob = fake.add_account("bob")
    parent = fake.new_status(bob, "a question")
    reply = fake.new_status(fake.add_account("alice"), "@bob an answer", reply_to=parent["id"])
    post = post_of(fake, reply)
    assert post.mention_ids == [bob["id"]] and post.reply_to_author_id == bob["id"]
