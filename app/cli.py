"""The `reposter` command: demo, serve, worker, migrate, token, keygen, check-rule."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from app.config import Settings, get_settings
from app.logs import setup_logging

if TYPE_CHECKING:
    import httpx


def _demo(args: argparse.Namespace) -> None:
    from app import demo

    demo.main(args.host, args.port, args.db, args.post_every)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    settings.run_scheduler = args.with_worker
    # log_config=None: uvicorn's own lines (startup, access) go through app/logs.py's handler too
    uvicorn.run(create_app(settings), host=args.host or settings.host, port=args.port or settings.port,
                log_level=settings.log_level.lower(), log_config=None)


def _worker(args: argparse.Namespace) -> None:
    from app.pipeline.streamer import Streamer
    from app.runtime import Runtime
    from app.scheduler.jobs import Pipeline
    from app.scheduler.setup import start_scheduler

    async def run() -> None:
        settings = get_settings()
        runtime = Runtime.build(settings)
        streamer = Streamer(runtime)
        start_scheduler(Pipeline(runtime), every_seconds=settings.dispatch_interval_seconds, streamer=streamer)
        logging.getLogger("reposter.worker").info("worker started", extra={
            "worker_id": runtime.worker_id, "every_seconds": settings.dispatch_interval_seconds})
        try:
            await asyncio.Event().wait()
        finally:
            await streamer.stop()
            await runtime.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


def _migrate(args: argparse.Namespace) -> None:
    from app.db.migrate import upgrade

    upgrade(get_settings().database_url, args.revision)
    print(f"database at {args.revision}")


def _token(args: argparse.Namespace) -> None:
    from app.auth.caller import Role
    from app.auth.schemas import TokenCreate
    from app.auth.service import create
    from app.db.session import make_engine, make_sessionmaker, transaction

    async def run() -> str:
        engine = make_engine(get_settings().database_url)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                data = TokenCreate(name=args.name, role=Role(args.role), account_ids=args.account or [])
                _, secret = await create(session, data=data, caller=None)
            return secret
        finally:
            await engine.dispose()

    print(asyncio.run(run()))


def _keygen(args: argparse.Namespace) -> None:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())


def _check_rule(args: argparse.Namespace) -> None:
    from app.query import QuerySyntaxError, normalize, parse

    try:
        print(normalize(parse(args.query, scoped=args.scoped)))
    except QuerySyntaxError as exc:
        print(f"{args.query}\n{' ' * exc.position}^ {exc.message} (position {exc.position})", file=sys.stderr)
        sys.exit(2)


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


def _add_login_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from app.platforms.mastodon.login import SCOPES as MASTODON_SCOPES
    from app.platforms.x.login import SCOPES as X_SCOPES

    mastodon = sub.add_parser("mastodon", help="Mastodon helpers").add_subparsers(dest="mastodon_command",
                                                                                    required=True)
    login = mastodon.add_parser("login", help="register an app on an instance and get an access token (OAuth)")
    login.add_argument("--instance", required=True, help="e.g. https://mastodon.social")
    login.add_argument("--handle", help="the account's handle, for the printed connect command")
    login.add_argument("--scopes", default=MASTODON_SCOPES,
                       help=f"OAuth scopes to ask for (default: {MASTODON_SCOPES!r}; Takahē answers the bot "
                            "flag's call only with 'read write', and still leaves the flag off)")
    login.set_defaults(func=_mastodon_login)
    x = sub.add_parser("x", help="X helpers").add_subparsers(dest="x_command", required=True)
    login = x.add_parser("login", help="OAuth 2.0 PKCE login for an X account (needs your app's client id)")
    login.add_argument("--client-id", required=True)
    login.add_argument("--client-secret", help="only for confidential clients")
    login.add_argument("--redirect-uri", required=True, help="a callback URL registered on your X app")
    login.add_argument("--handle", help="the account's handle, for the printed connect command")
    login.add_argument("--scopes", default=" ".join(X_SCOPES),
                       help=f"OAuth 2.0 scopes, space-separated (default: {' '.join(X_SCOPES)!r})")
    login.set_defaults(func=_x_login)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reposter", description="Rule-based auto-repost service")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the demo: mock community, API and scheduler on SQLite")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--db", default="reposter-demo.db", help="SQLite file (recreated each run)")
    demo.add_argument("--post-every", type=float, default=1.5, help="seconds between community posts")
    demo.set_defaults(func=_demo)
    serve = sub.add_parser("serve", help="serve the API (REPOSTER_* settings)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--with-worker", action="store_true", help="also run the pipeline in this process")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run the pipeline (poll, match, dispatch); run several on PostgreSQL")
    worker.set_defaults(func=_worker)
    migrate = sub.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=_migrate)
    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print its secret (shown once)")
    create.add_argument("--name", default="admin")
    create.add_argument("--role", default="admin", choices=["admin", "organizer", "moderator"])
    create.add_argument("--account", type=int, action="append", help="account id the token reaches (repeat)")
    create.set_defaults(func=_token)
    sub.add_parser("keygen", help="print a new encryption key for REPOSTER_ENCRYPTION_KEY").set_defaults(func=_keygen)
    check = sub.add_parser("check-rule", help="parse a rule query and print its normalized form")
    check.add_argument("query")
    check.add_argument("--scoped", action="store_true", help="the rule's scope is a set of people")
    check.set_defaults(func=_check_rule)
    _add_login_commands(sub)
    return parser


# Services log JSON lines for a log collector; people at a terminal read text.
JSON_BY_DEFAULT = ("serve", "worker")


def log_choice(command: str, settings: Settings) -> tuple[str, str]:
    """(format, level) for `command`: REPOSTER_LOG_FORMAT / REPOSTER_LOG_LEVEL when set, else json for
    services and text elsewhere; commands a person runs at a terminal (the demo, logins, tokens...)
    print what they did themselves, so their logs start at WARNING."""
    fmt = settings.log_format or ("json" if command in JSON_BY_DEFAULT else "text")
    quiet = command not in (*JSON_BY_DEFAULT, "migrate") and "log_level" not in settings.model_fields_set
    return fmt, "WARNING" if quiet else settings.log_level


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `reposter` console script."""
    args = build_parser().parse_args(argv)
    fmt, level = log_choice(args.command, get_settings())
    setup_logging(fmt=fmt, level=level)
    args.func(args)


if __name__ == "__main__":
    main()
