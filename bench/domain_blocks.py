"""Domain blocks: what they cost where they are checked, and what a large block-list import takes.

  python bench/domain_blocks.py                       # SQLite in a temporary folder
  python bench/domain_blocks.py --pg postgresql://postgres@127.0.0.1:5432/postgres

Prints: stop_reason per post with 0 and with N domain blocks (pure, no database), and the seconds
an import of a CSV of N domain blocks takes through the API into an account with M done actions
(each added block looks for the account's waiting and, with undo, done actions of its domain).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import httpx
from cryptography.fernet import Fernet
from scratch import on_scratch_database  # bench/scratch.py (bench/ is on sys.path)
from sqlalchemy import insert

from app.auth.caller import Role
from app.auth.schemas import TokenCreate
from app.auth.service import create as create_token
from app.config import Settings
from app.db.session import transaction
from app.engine.decide import stop_reason
from app.engine.view import AccountView
from app.main import create_app
from app.models import Action, SeenPost
from app.platforms.base import Author, Post
from app.runtime import Runtime

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def decide_cost(blocks: int, posts: int = 20_000) -> None:
    """Microseconds of stop_reason per post, without and with `blocks` domain blocks."""
    # one author in ten on a subdomain of a blocked domain (when there are blocks), the rest on others
    authors = [Author(id=str(i), handle=f"user{i}@sub.{'blocked' if i % 10 == 0 else 'fine'}{i % blocks}.example")
               for i in range(posts)]
    batch = [Post(platform="mock", id=str(i), author=a, text="hello") for i, a in enumerate(authors)]
    for count in (0, blocks):
        view = AccountView(account_id=1, handle="club", platform="mock",
                           blocked_domains={f"blocked{i}.example": "spam" for i in range(count)})
        started = time.perf_counter()
        skipped = sum(stop_reason(post, view, NOW) is not None for post in batch)
        per_post = (time.perf_counter() - started) / posts * 1e6
        print(f"  stop_reason with {count:>6,} domain blocks: {per_post:6.2f} us a post ({skipped} skipped)")


async def import_cost(url: str, lines: int, actions: int, undo: bool) -> None:
    runtime = Runtime.build(Settings(_env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode()))
    try:
        async with transaction(runtime.sessions) as session:
            _, token = await create_token(session, data=TokenCreate(name="bench", role=Role.admin), caller=None)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=runtime)),
                                     base_url="http://bench") as client:
            account = (await client.post("/api/v1/accounts", headers=headers, json={
                "platform": "mock", "handle": "bench", "credentials": {"token": "t"}})).json()
            await _actions(runtime, account["id"], actions)
            body = "block,reason\n" + "".join(f"*@blocked{i}.example,spam\n" for i in range(lines))
            started = time.perf_counter()
            answer = await client.post(f"/api/v1/accounts/{account['id']}/blocks/import", content=body.encode(),
                                       params={"undo_existing": str(undo).lower()},
                                       headers={**headers, "Content-Type": "text/csv"}, timeout=None)
            took = time.perf_counter() - started
        report = answer.json()
        print(f"  import of {lines:,} domain blocks (undo_existing={undo}) beside {actions:,} actions: "
              f"{took:.1f} s ({answer.status_code}, {report.get('added')} added)")
    finally:
        await runtime.close()


async def _actions(runtime: Runtime, account_id: int, count: int) -> None:
    """`count` done actions, one in ten by an author of a blocked domain."""
    async with transaction(runtime.sessions) as session:
        posts = [{"platform": "mock", "post_id": f"p{i}", "author_id": f"a{i}", "author_handle": _handle(i),
                  "data": {}} for i in range(count)]
        await session.execute(insert(SeenPost), posts)
        rows = [{"account_id": account_id, "seen_post_id": i + 1, "post_id": f"p{i}", "author_id": f"a{i}",
                 "author_handle": _handle(i), "kind": "repost", "status": "done"} for i in range(count)]
        await session.execute(insert(Action), rows)


def _handle(i: int) -> str:
    return f"user{i}@blocked{i}.example" if i % 10 == 0 else f"user{i}@fine{i % 50}.example"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a scratch database is made and dropped)")
    parser.add_argument("--lines", type=int, default=10_000, help="domain blocks in the imported file")
    parser.add_argument("--actions", type=int, default=20_000, help="done actions on the account")
    args = parser.parse_args()
    print(f"decide ({args.lines:,} domain blocks):")
    decide_cost(args.lines)
    for undo in (False, True):
        print(f"import on {'PostgreSQL' if args.pg else 'SQLite'}:")
        on_scratch_database(args.pg, lambda url, undo=undo: import_cost(url, args.lines, args.actions, undo))


if __name__ == "__main__":
    main()
