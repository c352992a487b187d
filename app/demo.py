"""`reposter demo`: SQLite, the mock platform with a lively community, the API, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import random
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from cryptography.fernet import Fernet

from app.accounts.schemas import AccountCreate, Limits
from app.accounts.service import create as create_account
from app.actions import repository as actions_repo
from app.auth.caller import Caller, Role
from app.auth.schemas import TokenCreate
from app.auth.service import create as create_token
from app.config import Settings
from app.db.migrate import upgrade
from app.db.session import transaction
from app.main import create_app
from app.models import AccountFilters, Action, ActionStatus
from app.moderation.schemas import BlockCreate
from app.moderation.service import add_block
from app.platforms.mock import community
from app.platforms.mock.world import get_world
from app.rules.schemas import RuleCreate
from app.rules.service import create as create_rule
from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from app.scheduler.setup import start_scheduler
from app.users.service import create as create_user

ACCOUNT = "coffeeclub"
SYSTEM = Caller(None, "demo setup", Role.admin)
DEMO_ADMIN = "admin"
RULES = [
    RuleCreate(name="Club members", query="#coffeeclub", scope="followers"),
    RuleCreate(name="Espresso talk", query='(espresso OR "latte art") -is:reply -has:links', scope="anyone"),
    RuleCreate(name="Latte art, reviewed first", query="#latteart", scope="anyone", review=True),
]


async def setup(runtime: Runtime) -> tuple[str, str]:
    """The demo account, its rules, filters and a block; returns a fresh admin token and the password
    of the dashboard's demo admin (`admin`)."""
    community.seed(get_world("default"), ACCOUNT, random.Random(7))
    password = secrets.token_urlsafe(9)
    async with transaction(runtime.sessions) as session:
        _, secret = await create_token(session, data=TokenCreate(name="demo admin", role=Role.admin), caller=None)
        await create_user(session, name=DEMO_ADMIN, password=password, role=Role.admin, account_ids=[], caller=None)
        account = await create_account(session, runtime=runtime, caller=SYSTEM, data=AccountCreate(
            platform="mock", handle=ACCOUNT, credentials={"token": Fernet.generate_key().decode()},
            limits=Limits(max_per_hour=240, min_interval_seconds=2)))
        for rule in RULES:
            await create_rule(session, runtime=runtime, account=account, data=rule, caller=SYSTEM)
        session.add(AccountFilters(account_id=account.id, languages=["en", "it"], min_followers=50,
                                   banned_words=["giveaway", "crypto"], duplicate_window_minutes=60))
        await add_block(session, runtime=runtime, account=account, caller=SYSTEM,
                        data=BlockCreate(author=community.SPAMMER, reason="spam"))
    return secret, password


async def print_activity(runtime: Runtime, stopping: asyncio.Event) -> None:
    """One line per decision the pipeline makes, so a newcomer sees it work; ends when `stopping` is
    set (never cancelled: a query cut off by a cancel would print a traceback on the way out)."""
    seen: dict[int, str] = {}
    while not await _stopped_within(stopping, 1):
        async with runtime.sessions() as session:
            rows = await actions_repo.with_rule_names(session)
        for action, rule in rows:
            if seen.get(action.id) == action.status or action.status in (ActionStatus.queued, ActionStatus.sending):
                continue
            seen[action.id] = action.status
            print(_line(action, rule), flush=True)


async def _stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; whether the demo is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()


def _line(action: Action, rule: str | None) -> str:
    """`REVIEW   action 12 (post #145) ...`: the action id is what /api/v1/actions/{id}/approve takes."""
    icon = {ActionStatus.done: "REPOSTED", ActionStatus.skipped: "skipped ", ActionStatus.review: "REVIEW  ",
            ActionStatus.failed: "failed  ", ActionStatus.undoing: "UNDOING ",
            ActionStatus.undone: "undone  "}.get(ActionStatus(action.status), action.status)
    why = f" ({action.reason})" if action.reason and action.status != ActionStatus.done else ""
    return f"  {icon} action {action.id} (post #{action.post_id}) by @{action.author_handle} [rule: {rule or '-'}]{why}"


async def chatter(every: float) -> None:
    """The community keeps posting."""
    rng, world = random.Random(), get_world("default")
    for _ in range(12):  # some history for the first poll
        community.step(world, rng)
    community.say_stop(world)  # one outsider asks the account to stop: opted out by the first poll
    while True:
        await asyncio.sleep(rng.uniform(every * 0.5, every * 1.5))
        community.step(world, rng)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: after a Ctrl-C it raises the signal again once it has
    served, which cut the demo's clean-up short with a traceback. The demo stops itself (run())."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(*, sock: socket.socket, db_path: Path, post_every: float) -> None:
    """Fresh database, migrate, set up, then serve the API on `sock` and tick the pipeline until Ctrl-C."""
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    await asyncio.to_thread(_fresh, db_path)
    url = f"sqlite+aiosqlite:///{db_path}"
    host, port = sock.getsockname()[:2]
    settings = Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode(),
                        poll_interval_seconds=3, dispatch_interval_seconds=1, host=host, port=port)
    await asyncio.to_thread(upgrade, url)
    runtime = Runtime.build(settings)
    try:
        token, password = await setup(runtime)
        if not stopping.is_set():
            _banner(f"http://{host}:{port}", token, password, db_path)
            await _serve(runtime, sock, stopping, post_every)
    finally:
        await runtime.close()


def _fresh(db_path: Path) -> None:
    """Delete the last run's database, WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


async def _serve(runtime: Runtime, sock: socket.socket, stopping: asyncio.Event, post_every: float) -> None:
    """The API, the pipeline, the community and the activity lines, until `stopping` is set."""
    pipeline = Pipeline(runtime, relations_max_age=30)
    scheduler = start_scheduler(pipeline, every_seconds=runtime.settings.dispatch_interval_seconds)
    server = _Server(uvicorn.Config(create_app(runtime=runtime), log_level="warning", log_config=None))
    # every task ends when `stopping` is set; _settle() awaits them (chatter is cancelled: it only sleeps)
    tasks = [asyncio.create_task(print_activity(runtime, stopping)), asyncio.create_task(chatter(post_every)),
             asyncio.create_task(server.serve(sockets=[sock])), asyncio.create_task(stopping.wait())]
    await asyncio.wait(tasks[2:], return_when=asyncio.FIRST_COMPLETED)
    stopping.set()
    server.should_exit = True
    # paused, not shut down yet: shutting down cancels the running jobs mid-call (a traceback each)
    scheduler.pause()
    if pipeline.pusher is not None:  # its loop waits for arrivals for ever: stopped, not left to _settle
        await pipeline.pusher.stop(grace=5)
    tasks[1].cancel()
    await _settle(seconds=10)
    scheduler.shutdown(wait=False)


async def _settle(*, seconds: float) -> None:
    """Let every other task (the server, running jobs, the activity lines) end on its own; cancel what
    is still running after `seconds`."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if not others:
        return
    _, late = await asyncio.wait(others, timeout=seconds)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)


def _banner(base: str, token: str, password: str, db_path: Path) -> None:
    print(f"""
reposter demo: the mock platform's coffee community is posting; @{ACCOUNT} reposts by its rules.

  dashboard    {base}/        sign in as {DEMO_ADMIN} with password {password}
  API          {base}/api/v1        (interactive docs: {base}/docs)
  admin token  {token}
  database     {db_path} (SQLite, fresh each run)

  rules:  {' | '.join(f'{r.name}: {r.query} [{r.scope}{", review" if r.review else ""}]' for r in RULES)}
  filters: languages en/it, min 50 followers, banned words giveaway/crypto, duplicate text within 60 min
  block:  @{community.SPAMMER} (spam)
  stop:   @{community.STOPPER} mentions @{ACCOUNT} with "stop" and is put on its opt-out list

List the reposts:
  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/accounts/1/actions?status=done'
See what waits for review, and why others were skipped:
  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/accounts/1/actions?status=review&status=skipped'
Approve what waits for review (the action number of a REVIEW line below):
  curl -s -X POST -H 'Authorization: Bearer {token}' '{base}/api/v1/actions/ACTION/approve'
Undo a repost (a REPOSTED line's action number): it answers `undoing`, and turns `undone` once removed:
  curl -s -X POST -H 'Authorization: Bearer {token}' '{base}/api/v1/actions/ACTION/undo'

Ctrl-C stops the demo. Activity:
""", flush=True)


def main(sock: socket.socket, db_path: str, post_every: float) -> None:
    """Entry point for `reposter demo`, on a socket already bound (so a busy port failed before
    anything was printed)."""
    if isinstance(sys.stdout, io.TextIOWrapper):  # `reposter demo | tee log` shows each line as it comes
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):  # a Ctrl-C before the loop took the signal over
        asyncio.run(run(sock=sock, db_path=Path(db_path), post_every=post_every))
    print("demo stopped", flush=True)
