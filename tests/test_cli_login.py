"""`reposter mastodon login` and `reposter x login` as a person runs them, against the fake servers.

The commands build their own httpx client; here it is pointed at the fake server. Whatever goes
wrong, the command prints one line on stderr and exits non-zero: never a traceback.
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.cli import main
from app.platforms.base import AccountContext, PlatformError
from app.platforms.x.platform import XPlatform
from tests.platforms.mastodon.fake_server import BASE, FakeMastodon
from tests.platforms.x.fake import CLIENT_ID, FakeX

REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture
def serve(monkeypatch):
    """Route every httpx client the command makes to `handler` (a fake server's `handle`)."""
    real = httpx.AsyncClient

    def route(handler):
        monkeypatch.setattr(httpx, "AsyncClient", lambda **_: real(transport=httpx.MockTransport(handler)))

    return route


def _person(monkeypatch, capsys, answer):
    """The person at the terminal: reads what was printed so far and types `answer(printed)`."""
    printed: list[str] = []

    def typed(prompt: str = "") -> str:
        printed.append(capsys.readouterr().out)
        return answer(printed[-1])

    monkeypatch.setattr("builtins.input", typed)
    return printed


def _authorize_url(out: str, start: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(start))


def _one_line_failure(capsys, exc_info) -> str:
    err = capsys.readouterr().err
    assert exc_info.value.code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_mastodon_login_works_on_a_server_that_takes_redirect_uris_as_a_string(monkeypatch, capsys, serve):
    fake = FakeMastodon(redirect_uris_string_only=True)  # Takahē, GoToSocial
    serve(fake.handle)
    _person(monkeypatch, capsys, lambda out: fake.authorize(_authorize_url(out, f"{BASE}/oauth/authorize")))
    main(["mastodon", "login", "--instance", "social.example", "--handle", "someone_else"])
    out = capsys.readouterr().out
    assert fake.token in out and '"base_url": "https://social.example"' in out
    assert '"handle": "reposter_bot@social.example"' in out  # the token's own account: connect takes no other
    assert fake.apps["client-1"]["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]


def test_mastodon_login_asks_for_the_scopes_given(monkeypatch, capsys, serve):
    fake = FakeMastodon()
    serve(fake.handle)
    _person(monkeypatch, capsys, lambda out: fake.authorize(_authorize_url(out, f"{BASE}/oauth/authorize")))
    main(["mastodon", "login", "--instance", BASE, "--scopes", "read write"])
    assert fake.apps["client-1"]["scopes"] == ["read", "write"] and fake.token_scopes == "read write"


def test_a_wrong_mastodon_code_is_one_line_and_a_non_zero_exit(monkeypatch, capsys, serve):
    fake = FakeMastodon()
    serve(fake.handle)
    _person(monkeypatch, capsys, lambda out: "not-the-code")
    with pytest.raises(SystemExit) as info:
        main(["mastodon", "login", "--instance", BASE])
    assert "authorization grant is invalid" in _one_line_failure(capsys, info)


def test_an_unreachable_instance_is_one_line(monkeypatch, capsys, serve):
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name or service not known", request=request)

    serve(down)
    with pytest.raises(SystemExit) as info:
        main(["mastodon", "login", "--instance", "nowhere.example"])
    assert "ConnectError" in _one_line_failure(capsys, info)


def test_a_bad_x_callback_is_one_line_and_a_non_zero_exit(monkeypatch, capsys, serve):
    serve(FakeX())
    _person(monkeypatch, capsys, lambda out: f"{REDIRECT}?state=forged&code=abc")
    with pytest.raises(SystemExit) as info:
        main(["x", "login", "--client-id", CLIENT_ID, "--redirect-uri", REDIRECT])
    assert "state does not match" in _one_line_failure(capsys, info)


def test_x_login_asks_for_list_read_and_any_scopes_given(monkeypatch, capsys, serve):
    fake = FakeX()
    serve(fake)

    def approve(out: str) -> str:
        query = {k: v[0] for k, v in parse_qs(urlsplit(_authorize_url(out, "https://x.com/i/oauth2/authorize")).query).items()}
        asked.append(query["scope"].split())
        fake.auth_code, fake.auth_challenge, fake.auth_scopes = "code-1", query["code_challenge"], query["scope"]
        return f"{REDIRECT}?state={query['state']}&code=code-1"

    asked: list[list[str]] = []
    _person(monkeypatch, capsys, approve)
    main(["x", "login", "--client-id", CLIENT_ID, "--redirect-uri", REDIRECT])
    out = capsys.readouterr().out
    assert "list.read" in asked[0] and fake.access_token in out and '"handle": "reposter_acct"' in out
    fake.lists["77"] = [fake.user_id("coffee_lover")]
    assert "coffee_lover" in await_(_list_members(fake))  # the token carries list.read: list: scopes work
    main(["x", "login", "--client-id", CLIENT_ID, "--redirect-uri", REDIRECT, "--scopes", "tweet.read users.read"])
    assert asked[1] == ["tweet.read", "users.read"]
    with pytest.raises(PlatformError, match=r"list\.read"):
        await_(_list_members(fake))


async def _list_members(fake: FakeX) -> set[str]:
    ctx = AccountContext(handle="reposter_acct", credentials={"access_token": fake.access_token})
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        return await XPlatform().action_client(ctx, http).list_members("77")


def await_(coroutine):
    return asyncio.run(coroutine)
