"""`reposter demo`: SQLite, the mock platform with a lively community, the API, the scheduler."""

from __future__ import annotations

import asyncio
import logging
import random
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

ACCOUNT = "coffeeclub"
SYSTEM = Caller(None, "demo setup", Role.admin)
RULES = [
    RuleCreate(name="Club members", query="#coffeeclub", scope="followers"),
    RuleCreate(name="Espresso talk", query='(espresso OR "latte art") -is:reply -has:links', scope="anyone"),
    RuleCreate(name="Latte art, reviewed first", query="#latteart", scope="anyone", review=True),
]


async def setup(runtime: Runtime) -> str:
    """The demo account, its rules, filters and a block; returns a fresh admin token."""
    community.seed(get_world("default"), ACCOUNT, random.Random(7))
    async with transaction(runtime.sessions) as session:
        _, secret = await create_token(session, data=TokenCreate(name="demo admin", role=Role.admin), caller=None)
        account = await create_account(session, runtime=runtime, caller=SYSTEM, data=AccountCreate(
            platform="mock", handle=ACCOUNT, credentials={"token": Fernet.generate_key().decode()},
            limits=Limits(max_per_hour=240, min_interval_seconds=2)))
        for rule in RULES:
            await create_rule(session, runtime=runtime, account=account, data=rule, caller=SYSTEM)
        session.add(AccountFilters(account_id=account.id, languages=["en", "it"], min_followers=50,
                                   banned_words=["giveaway", "crypto"], duplicate_window_minutes=60))
        await add_block(session, runtime=runtime, account=account, caller=SYSTEM,
                        data=BlockCreate(author=community.SPAMMER, reason="spam"))
    return secret


async def print_activity(runtime: Runtime) -> None:
    """One line per decision the pipeline makes, so a newcomer sees it work."""
    seen: dict[int, str] = {}
    while True:
        await asyncio.sleep(1)
        async with runtime.sessions() as session:
            rows = await actions_repo.with_rule_names(session)
        for action, rule in rows:
            if seen.get(action.id) == action.status or action.status in (ActionStatus.queued, ActionStatus.sending):
                continue
            seen[action.id] = action.status
            print(_line(action, rule), flush=True)


def _line(action: Action, rule: str | None) -> str:
    icon = {ActionStatus.done: "REPOSTED", ActionStatus.skipped: "skipped ", ActionStatus.review: "REVIEW  ",
            ActionStatus.failed: "failed  "}.get(ActionStatus(action.status), action.status)
    why = f" ({action.reason})" if action.reason and action.status != ActionStatus.done else ""
    return f"  {icon} #{action.post_id} by @{action.author_handle} [rule: {rule or '-'}]{why}"


async def chatter(every: float) -> None:
    """The community keeps posting."""
    rng, world = random.Random(), get_world("default")
    for _ in range(12):  # some history for the first poll
        community.step(world, rng)
    while True:
        await asyncio.sleep(rng.uniform(every * 0.5, every * 1.5))
        community.step(world, rng)


def _remove_database(db_path: Path) -> None:
    """The demo starts from nothing: the SQLite file and its journals go."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


async def run(*, host: str, port: int, db_path: Path, post_every: float) -> None:
    """Fresh database, migrate, set up, then serve the API and tick the pipeline until Ctrl-C."""
    await asyncio.to_thread(_remove_database, db_path)
    url = f"sqlite+aiosqlite:///{db_path}"
    settings = Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode(),
                        poll_interval_seconds=3, dispatch_interval_seconds=1, host=host, port=port)
    await asyncio.to_thread(upgrade, url)
    runtime = Runtime.build(settings)
    token = await setup(runtime)
    base = f"http://{host}:{port}"
    _banner(base, token, db_path)
    scheduler = start_scheduler(Pipeline(runtime, relations_max_age=30),
                                every_seconds=settings.dispatch_interval_seconds)
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=runtime), host=host, port=port, log_level="warning",
                                          log_config=None))
    tasks = [asyncio.create_task(chatter(post_every)), asyncio.create_task(print_activity(runtime))]
    try:
        await server.serve()
    finally:
        scheduler.shutdown(wait=False)
        for task in tasks:
            task.cancel()
        await runtime.close()


def _banner(base: str, token: str, db_path: Path) -> None:
    print(f"""
reposter demo: the mock platform's coffee community is posting; @{ACCOUNT} reposts by its rules.

  API          {base}/api/v1        (interactive docs: {base}/docs)
  admin token  {token}
  database     {db_path} (SQLite, fresh each run)

  rules:  {' | '.join(f'{r.name}: {r.query} [{r.scope}{", review" if r.review else ""}]' for r in RULES)}
  filters: languages en/it, min 50 followers, banned words giveaway/crypto, duplicate text within 60 min
  block:  @{community.SPAMMER} (spam)

List the reposts:
  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/accounts/1/actions?status=done'
See what waits for review, and why others were skipped:
  curl -s -H 'Authorization: Bearer {token}' '{base}/api/v1/accounts/1/actions?status=review&status=skipped'

Ctrl-C stops the demo. Activity:
""", flush=True)


def main(host: str, port: int, db_path: str, post_every: float) -> None:
    """Entry point for `reposter demo`."""
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(run(host=host, port=port, db_path=Path(db_path), post_every=post_every))
    except KeyboardInterrupt:
        print("demo stopped")
