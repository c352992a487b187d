"""Connecting on Mastodon-API servers that differ (tests/platforms/specs/mastodon-servers.md):
the bot flag is best-effort and read back, and the handle may be spelt with or without a domain."""

from __future__ import annotations

import httpx

from app.platforms.mastodon.platform import MastodonPlatform
from tests.platforms.mastodon.conftest import context
from tests.platforms.mastodon.fake_server import FakeMastodon


async def test_a_server_that_wants_the_whole_write_scope_for_the_bot_flag_still_connects(contract):
    fake = FakeMastodon(bot_flag_needs_write=True, token_scopes="read write:statuses write:favourites write:accounts")
    account = await MastodonPlatform().connect(context(fake), fake.client())
    assert account.platform_user_id == fake.me["id"] and fake.me["bot"] is False
    [warning] = account.warnings
    assert warning.code == "bot_flag" and warning.http_status == 403
    assert "refused" in warning.message and "--scopes 'read write'" in warning.message
    fake.validate(contract)


async def test_with_the_whole_write_scope_that_server_sets_the_flag():
    fake = FakeMastodon(bot_flag_needs_write=True, token_scopes="read write")
    account = await MastodonPlatform().connect(context(fake), fake.client())
    assert fake.me["bot"] is True and account.warnings == []


async def test_a_server_that_ignores_a_json_bot_flag_gets_the_form_value():
    fake = FakeMastodon(bot_flag_json_ignored=True)
    account = await MastodonPlatform().connect(context(fake), fake.client())
    assert fake.me["bot"] is True and account.warnings == []


async def test_on_takahe_the_flag_cannot_be_set_and_the_warning_does_not_send_the_owner_to_log_in_again():
    """Seen on Takahē 0.11 with a `read write follow` token: PATCH answered 200 and `bot` stayed
    false (JSON, form and multipart alike); logging in with more scopes cannot help there."""
    fake = FakeMastodon.takahe(token_scopes="read write follow")
    account = await MastodonPlatform().connect(context(fake), fake.client())
    [warning] = account.warnings
    assert fake.me["bot"] is False and warning.code == "bot_flag" and "left it off" in warning.message
    assert "--scopes" not in warning.message


async def test_a_flag_that_did_not_stick_is_a_warning(monkeypatch):
    fake = FakeMastodon()
    monkeypatch.setattr(fake, "_update_credentials",
                        lambda request: fake._reply(request, 200, fake.credential_account()))
    account = await MastodonPlatform().connect(context(fake), fake.client())
    [warning] = account.warnings
    assert warning.code == "bot_flag" and "left it off" in warning.message
    # read back twice: the answer, then verify_credentials
    assert [ex.request.method for ex in fake.exchanges] == ["GET", "PATCH", "GET"]


async def test_the_account_is_named_with_or_without_its_domain():
    fake = FakeMastodon()
    account = await MastodonPlatform().connect(context(fake), fake.client())
    for name in ("reposter_bot", "@Reposter_Bot", "reposter_bot@social.example", "@reposter_bot@SOCIAL.example",
                 fake.me["id"]):
        assert account.is_named(name), name
    for name in ("reposter_b", "reposter_bot@other.example", "ourcafe_p"):
        assert not account.is_named(name), name


async def test_a_server_that_reports_local_accounts_with_their_domain_names_them_alike():
    fake = FakeMastodon()
    fake.me["acct"] = "reposter_bot@social.example"  # Takahē
    account = await MastodonPlatform().connect(context(fake), fake.client())
    assert account.handle == "reposter_bot@social.example"
    assert account.is_named("reposter_bot") and account.is_named("@reposter_bot@social.example")


async def test_a_handle_on_the_instance_domain_rather_than_its_host_names_it_too():
    """LOCAL_DOMAIN example.org, API and web pages at social.example: @reposter_bot@example.org."""
    fake = FakeMastodon()

    def instance(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/instance":
            return httpx.Response(200, json={"domain": "example.org", "title": "Example", "version": "4.3.0"})
        return fake.handle(request)

    ctx = context(fake)
    ctx.handle = "reposter_bot@example.org"
    account = await MastodonPlatform().connect(ctx, httpx.AsyncClient(transport=httpx.MockTransport(instance)))
    assert account.is_named("reposter_bot@example.org") and account.is_named("reposter_bot@social.example")
    ctx.handle = "reposter_bot@elsewhere.example"
    account = await MastodonPlatform().connect(ctx, httpx.AsyncClient(transport=httpx.MockTransport(instance)))
    assert not account.is_named("reposter_bot@elsewhere.example")
