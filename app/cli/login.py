"""`reposter mastodon login` and `reposter x login`: get a platform's credentials and print the
request that connects the account. Any failure is one line on stderr and exit status 1."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from app.cli.parsing import Subparsers, add_command

if TYPE_CHECKING:
    import httpx


def _print_account_body(platform: str, handle: str, credentials: dict, config: dict) -> None:
    """What to send to POST /api/v1/accounts to connect the account just authorized."""
    import json

    body = {"platform": platform, "handle": handle, "credentials": credentials, "config": config}
    print("\nConnect the account with (keep this secret; reposter stores it encrypted):")
    print(f"curl -s -X POST $API/accounts -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n"
          f"  -d '{json.dumps(body)}'")


def _login_http() -> httpx.AsyncClient:
    """The HTTP client the login commands use (tests put a fake server behind it)."""
    import httpx

    return httpx.AsyncClient(timeout=20)


def _run_login(command: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a login coroutine; any failure is one line on stderr and exit status 1, never a traceback."""
    import httpx

    from app.platforms.base import PlatformError

    try:
        asyncio.run(run())
    except (PlatformError, ValueError, httpx.HTTPError) as exc:
        print(f"reposter {command}: {exc or type(exc).__name__}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, EOFError):
        print(f"reposter {command}: cancelled", file=sys.stderr)
        sys.exit(1)


async def _own_handle(platform: str, http: httpx.AsyncClient, credentials: dict, config: dict) -> str | None:
    """Whose the new credentials are, for the printed connect command (connect accepts no other
    handle); None when the platform cannot tell now."""
    import httpx

    from app.platforms.base import AccountContext, PlatformError

    ctx = AccountContext(handle="", config=config, credentials=credentials)
    try:
        if platform == "mastodon":
            from app.platforms.mastodon.client import MastodonClient

            client = MastodonClient(ctx, http)
            acct = (await client.call("GET", "/api/v1/accounts/verify_credentials"))["acct"]
            return acct if "@" in acct else f"{acct}@{httpx.URL(client.config.base_url).host}"
        from app.platforms.x.client import XClient, data_of

        return data_of(await XClient(ctx, http).call("GET", "/2/users/me"), "the account")["username"]
    except (PlatformError, KeyError):
        return None


def _mastodon_login(args: argparse.Namespace) -> None:
    from app.platforms.mastodon.login import exchange_code, start_login

    async def run() -> None:
        async with _login_http() as http:
            login = await start_login(http, args.instance, scopes=args.scopes)
            print("Open this address, sign in as the account reposter should act for, and approve the app:")
            print(login.authorize_url)
            # in a thread: the event loop (and the client's open connection) keeps running meanwhile
            code = (await asyncio.to_thread(input, "Paste the authorization code the instance shows: ")).strip()
            if not code:
                raise ValueError("no authorization code was pasted")
            token = await exchange_code(http, login, code)
            handle = await _own_handle("mastodon", http, token.credentials(), {"base_url": login.instance})
        _print_account_body("mastodon", handle or args.handle or "<handle>", token.credentials(),
                            {"base_url": login.instance})

    _run_login("mastodon login", run)


def _x_login(args: argparse.Namespace) -> None:
    from app.platforms.x.login import login_interactively

    async def run() -> None:
        async with _login_http() as http:
            credentials = await login_interactively(http, client_id=args.client_id, redirect_uri=args.redirect_uri,
                                                    client_secret=args.client_secret, scopes=tuple(args.scopes.split()))
            handle = await _own_handle("x", http, credentials, {})
        _print_account_body("x", handle or args.handle or "<handle>", credentials, {})

    _run_login("x login", run)


def add_commands(sub: Subparsers) -> None:
    """mastodon login, x login."""
    from app.platforms.mastodon.login import SCOPES as MASTODON_SCOPES
    from app.platforms.x.login import SCOPES as X_SCOPES

    mastodon = add_command(sub, "mastodon", None, "Mastodon helpers", "")
    cmd = add_command(mastodon.add_subparsers(dest="mastodon_command", required=True), "login", _mastodon_login,
                      "register an app on an instance and get an access token (OAuth)",
                      "Prints an address to open and asks for the code the instance shows, then prints the "
                      "request that connects the account.")
    cmd.add_argument("--instance", required=True, help="e.g. https://mastodon.social")
    cmd.add_argument("--handle", help="the account's handle, for the printed connect command")
    cmd.add_argument("--scopes", default=MASTODON_SCOPES,
                     help="OAuth scopes to ask for (Takahē answers the bot flag's call only with 'read write', "
                          "and still leaves the flag off)")
    x = add_command(sub, "x", None, "X helpers", "")
    cmd = add_command(x.add_subparsers(dest="x_command", required=True), "login", _x_login,
                      "OAuth 2.0 PKCE login for an X account (needs your app's client id)",
                      "Prints an address to open; after you approve, paste the address X sent you to. "
                      "Then prints the request that connects the account.")
    cmd.add_argument("--client-id", required=True, help="your X app's OAuth 2.0 client id")
    cmd.add_argument("--client-secret", help="only for confidential clients")
    cmd.add_argument("--redirect-uri", required=True, help="a callback URL registered on your X app")
    cmd.add_argument("--handle", help="the account's handle, for the printed connect command")
    cmd.add_argument("--scopes", default=" ".join(X_SCOPES), help="OAuth 2.0 scopes, space-separated")
