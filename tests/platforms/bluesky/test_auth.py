"""Bluesky sessions (reused, refreshed, re-created only when the refresh fails) and connect (the bot self-label)."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.platforms.base import CredentialsInvalid
from app.platforms.bluesky.xrpc import is_expiring
from tests.platforms.bluesky.recorded import bodies_of, nsids
from tests.platforms.harness_bluesky import IMAGE, PASSWORD, BlueskyHarness, fake_jwt


# ---- the session: reused, refreshed, re-created only when the refresh fails -------------
async def test_the_session_is_reused_across_polls_and_clients():
    h = BlueskyHarness()
    h.add_post("plain")
    ctx = h.context()
    for _ in range(3):
        await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    await h.platform.action_client(ctx, h.http()).followers()
    assert h.server.logins == 0 and h.server.refreshes == 0 and h.saved == []


async def test_an_access_token_past_its_exp_is_refreshed_before_the_call():
    h = BlueskyHarness()
    h.add_post("plain")
    stale = fake_jwt(h.server.me, time.time() - 5)
    h.server.access.add(stale)
    h.credentials["access_jwt"] = stale
    ctx = h.context()
    await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    assert h.server.refreshes == 1 and h.server.logins == 0
    assert nsids(h)[0] == "com.atproto.server.refreshSession"
    saved = h.saved[-1]
    assert saved["access_jwt"] != stale and saved["refresh_jwt"] != h.credentials["refresh_jwt"]
    assert saved["app_password"] == PASSWORD and ctx.credentials == saved
    h.validate_requests()


async def test_an_expired_token_answer_is_refreshed_and_the_call_resent():
    h = BlueskyHarness()
    h.add_post("plain")
    h.server.expired.add(h.credentials["access_jwt"])
    posts, _ = await h.platform.feed_source(h.context(), h.http()).fetch(h.source, None)
    assert posts and h.server.refreshes == 1 and h.server.logins == 0
    assert nsids(h)[:3] == [
        "app.bsky.feed.getTimeline",
        "com.atproto.server.refreshSession",
        "app.bsky.feed.getTimeline",
    ]


async def test_a_refused_refresh_logs_in_again_once():
    h = BlueskyHarness()
    h.add_post("plain")
    h.server.expired.add(h.credentials["access_jwt"])
    h.server.refresh.clear()  # the refresh token was revoked
    ctx = h.context()
    feed = h.platform.feed_source(ctx, h.http())
    await feed.fetch(h.source, None)
    await feed.fetch(h.source, None)
    assert h.server.logins == 1 and h.server.refreshes == 0
    assert bodies_of(h, "createSession") == [{"identifier": "reposterbot.bsky.social", "password": PASSWORD}]
    h.validate_requests()


async def test_no_session_yet_means_one_login_then_reuse():
    h = BlueskyHarness()
    h.add_post("plain")
    h.credentials = {"identifier": "reposterbot.bsky.social", "app_password": PASSWORD}
    ctx = h.context()
    await h.platform.feed_source(ctx, h.http()).fetch(h.source, None)
    await h.platform.action_client(ctx, h.http()).following()
    assert h.server.logins == 1 and set(ctx.credentials) >= {"access_jwt", "refresh_jwt", "did"}


async def test_concurrent_calls_renew_the_session_once():
    h = BlueskyHarness()
    h.add_post("plain")
    h.server.expired.add(h.credentials["access_jwt"])
    ctx = h.context()
    await asyncio.gather(*(h.platform.feed_source(ctx, h.http()).fetch(h.source, None) for _ in range(5)))
    assert h.server.refreshes == 1 and h.server.logins == 0


async def test_a_wrong_app_password_means_credentials_invalid():
    h = BlueskyHarness()
    h.credentials = {"identifier": "reposterbot.bsky.social", "app_password": "wrong"}
    with pytest.raises(CredentialsInvalid):
        await h.platform.feed_source(h.context(), h.http()).fetch("home", None)
    with pytest.raises(CredentialsInvalid):
        await h.platform.connect(h.context(), h.http())


def test_jwt_expiry_is_read_from_the_token():
    assert is_expiring(fake_jwt("did:plc:x", time.time() + 30)) and not is_expiring(
        fake_jwt("did:plc:x", time.time() + 3600)
    )
    assert is_expiring(None) and not is_expiring("opaque-token-without-claims")


# ---- connect: session, and the bot self-label on the profile -----------------------------
async def test_connect_logs_in_and_adds_the_bot_label_keeping_the_profile():
    h = BlueskyHarness()
    profile = {
        "$type": "app.bsky.actor.profile",
        "displayName": "Coffee Bot",
        "description": "I repost #coffee",
        "avatar": IMAGE,
        "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "graphic-media"}]},
    }
    h.server.records[("app.bsky.actor.profile", "self")] = profile
    ctx = h.context()
    account = await h.platform.connect(ctx, h.http())
    assert (account.platform_user_id, account.handle, account.display_name) == (
        h.server.me,
        "reposterbot.bsky.social",
        "Coffee Bot",
    )
    stored = h.server.records[("app.bsky.actor.profile", "self")]
    assert [v["val"] for v in stored["labels"]["values"]] == ["graphic-media", "bot"]
    assert {k: stored[k] for k in ("displayName", "description", "avatar")} == {
        k: profile[k] for k in ("displayName", "description", "avatar")
    }
    assert bodies_of(h, "putRecord")[0]["swapRecord"]  # compare-and-swap on the old record
    assert h.server.logins == 1 and ctx.credentials["did"] == h.server.me
    h.validate_requests()


async def test_connect_twice_writes_the_label_once_and_creates_a_missing_profile():
    h = BlueskyHarness()
    await h.platform.connect(h.context(), h.http())
    await h.platform.connect(h.context(), h.http())
    assert len(bodies_of(h, "putRecord")) == 1 and "swapRecord" not in bodies_of(h, "putRecord")[0]
    assert h.server.records[("app.bsky.actor.profile", "self")]["labels"]["values"] == [{"val": "bot"}]
    h.validate_requests()


async def test_a_refused_bot_label_still_connects_with_a_warning():
    h = BlueskyHarness()
    h.server.refuse_profile_writes = True
    account = await h.platform.connect(h.context(), h.http())
    assert account.platform_user_id == h.server.me
    [warning] = account.warnings
    assert (warning.code, warning.http_status) == ("bot_flag", 403) and "refused" in warning.message
    assert ("app.bsky.actor.profile", "self") not in h.server.records


async def test_a_bot_label_the_server_did_not_keep_is_a_warning():
    h = BlueskyHarness()
    h.server.drop_self_labels = True
    account = await h.platform.connect(h.context(), h.http())
    [warning] = account.warnings
    assert warning.code == "bot_flag" and "did not keep" in warning.message
    h.validate_requests()
