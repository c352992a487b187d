"""Many workers, one database: 1, 2 and 4 `reposter worker` processes on one PostgreSQL.

    python bench/scale.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/scale.py --pg ... --accounts 1000 --seconds 60      # a quicker run
    python bench/scale.py --pg ... --workers 4 --seconds 120         # one phase only

For each phase (by default 1, then 2, then 4 workers) a scratch database is made and migrated, and
filled with `--accounts` accounts on the mock platform, 3 sources each (`tag:s<n>`), 10 rules
each (`#a<account>r<j>`: 100,000 rules for 10,000 accounts). Every source has a cursor already
(position known, interval `--interval`, next poll spread over one interval after the warm-up),
so what is measured is the steady state, not the first poll of 30,000 new sources.

The workers are real subprocesses running the real CLI (`reposter worker`), with the mock platform
replaced in their process (`install()`, before the CLI starts) by one whose answers take 50-200 ms
(`--latency`) and whose feeds publish on their own: each source a post every interval / 3 seconds
(so each poll brings about three posts and its interval stays put), worked out from the wall clock,
so every worker process sees the same posts. A share of the posts (`--match`) carries one of its
account's rule tags: it is matched, queued and sent (a repost, another 50-200 ms call).

Measured in the window after `--warmup` seconds (while the workers compile 100,000 rules):
- poll lateness: a trigger on `cursors` notes, for every recorded poll, the due time it had and
  when it was recorded (the fetch's 50-200 ms are inside the lateness); share within 10% of the
  source's interval (sources left overdue by more than 10% at the end count as late), p50/p95/p99;
- the oldest due queued action's age, sampled every second (max), with the load average;
- polls/s, new posts/s, actions sent/s, and the ratio to one worker;
- PostgreSQL's own load: pg_stat_statements' top 10 by total time (needs
  shared_preload_libraries='pg_stat_statements'; left out with a note when absent), and
  pg_stat_activity's connections of the database by state (max seen).

`run_phase()` is what tests/test_scale_bench.py runs at a tiny size.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
# The imports below (E402) come after the lines above: the bench runs as a script from any folder.

import psycopg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app.accounts.crypto import encrypt  # noqa: E402
from app.db.base import utcnow  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402
from app.db.session import make_engine  # noqa: E402
from app.models import Account, Cursor, Rule  # noqa: E402
from app.models.moderation import RelationCache  # noqa: E402
from app.platforms.base import AccountContext, Author, FeedSource, Post  # noqa: E402
from app.platforms.mock.platform import MockActions, MockPlatform  # noqa: E402

SOURCES_PER_ACCOUNT = 3
RULES_PER_ACCOUNT = 10
POSTS_PER_INTERVAL = 3  # a poll on time brings about this many: between 1 and 9, its interval stays


# -- the platform inside each worker process ----------------------------------------------------


def _unit(*parts: object) -> float:
    """A number in [0, 1) from `parts`, the same in every process (no shared state needed)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Load:
    """What the platform answers: read by the workers from the environment (install())."""

    interval: float  # each source's poll interval; it publishes POSTS_PER_INTERVAL posts in one
    latency: tuple[float, float] = (0.05, 0.2)
    match: float = 0.1  # share of the posts that carry one of their account's rule tags

    @property
    def every(self) -> float:
        return self.interval / POSTS_PER_INTERVAL

    def env(self) -> dict[str, str]:
        return {"SCALE_INTERVAL": str(self.interval), "SCALE_LATENCY": f"{self.latency[0]},{self.latency[1]}",
                "SCALE_MATCH": str(self.match)}

    @classmethod
    def from_env(cls) -> Load:
        low, high = (float(x) for x in os.environ.get("SCALE_LATENCY", "0.05,0.2").split(","))
        return cls(float(os.environ["SCALE_INTERVAL"]), (low, high), float(os.environ.get("SCALE_MATCH", "0.1")))

    async def wait(self) -> None:
        await asyncio.sleep(random.uniform(*self.latency))

    def last_seq(self, source: int, at: float) -> int:
        """The sequence number of the source's newest post at `at` (Unix seconds)."""
        return math.floor((at - _unit("phase", source) * self.every) / self.every)

    def post(self, source: int, seq: int) -> Post:
        account = source // SOURCES_PER_ACCOUNT
        pick = _unit(source, seq)
        tag = f"a{account}r{int(pick * 1000) % RULES_PER_ACCOUNT}" if pick < self.match else f"a{account}x"
        author = f"poster{source % 997}"
        created = datetime.fromtimestamp(_unit("phase", source) * self.every + seq * self.every, UTC)
        return Post(platform="mock", id=f"{source}-{seq}", url=f"mock://scale/{source}-{seq}",
                    author=Author(id=f"u{source % 997}", handle=author, created_at=datetime(2020, 1, 1, tzinfo=UTC),
                                  followers_count=100, is_bot=False),
                    text=f"news {seq} of source {source} #{tag}", created_at=created, hashtags=[tag])


class ScaleFeed(FeedSource):
    """Each source `tag:s<n>` publishes a post every `Load.every` seconds; the cursor is the sequence
    number of the last post seen (at most 20 a page)."""

    def __init__(self, load: Load) -> None:
        self.load = load

    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        await self.load.wait()
        if not source.startswith("tag:s"):  # an account's mentions (stop words on): nobody mentions it
            return [], cursor
        n = int(source.removeprefix("tag:s"))
        last = self.load.last_seq(n, time.time())
        after = int(cursor) if cursor else last - 1
        first = max(after + 1, last - 19)
        return [self.load.post(n, seq) for seq in range(first, last + 1)], str(max(last, after))


class ScaleActions(MockActions):
    """Every call takes the platform's latency; sends succeed, nothing is found sent before."""

    def __init__(self, ctx: AccountContext, load: Load) -> None:
        self.ctx, self.load, self.me = ctx, load, ctx.handle.lower()

    async def _answer(self, value: Any) -> Any:
        await self.load.wait()
        return value

    async def repost(self, post: Post) -> str:
        return await self._answer(f"r-{self.me}-{post.id}")

    async def like(self, post: Post) -> str:
        return await self._answer(f"l-{self.me}-{post.id}")

    async def quote(self, post: Post, text: str) -> str:
        return await self._answer(f"q-{self.me}-{post.id}")

    async def undo(self, post: Post, platform_action_id: str | None, kind: str = "repost") -> None:
        await self._answer(None)

    async def has_reposted(self, post: Post) -> bool | None:
        return await self._answer(False)

    async def fetch_post(self, post: Post) -> Post | None:
        return await self._answer(post)

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        return await self._answer(None)

    async def followers(self) -> set[str]:
        return await self._answer(set())

    async def following(self) -> set[str]:
        return await self._answer(set())

    async def list_members(self, list_id: str) -> set[str]:
        return await self._answer(set())

    async def lookup_author(self, name: str) -> Author | None:
        return await self._answer(None)

    async def blocked_by(self) -> set[str]:
        return await self._answer(set())


class ScaleMock(MockPlatform):
    def __init__(self, load: Load) -> None:
        self.load = load

    def feed_source(self, ctx, http):
        return ScaleFeed(self.load)

    def action_client(self, ctx, http):
        return ScaleActions(ctx, self.load)


def install() -> None:
    """In a worker process, before the CLI starts: the mock platform becomes this bench's."""
    from app.platforms.registry import register

    register(ScaleMock(Load.from_env()))


WORKER = ("import sys; sys.path.insert(0, {bench!r}); import scale; scale.install(); "
          "from app.cli import main; sys.argv = ['reposter', 'worker']; main()")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """One `reposter worker` process (the real CLI) with the bench's platform installed."""
    out = open(log, "wb")  # noqa: SIM115 - the worker writes to it until it stops
    return subprocess.Popen([sys.executable, "-c", WORKER.format(bench=str(BENCH))], env=env, cwd=ROOT,
                            stdout=out, stderr=out)


# -- the database -------------------------------------------------------------------------------

TRIGGER = (
    "CREATE TABLE bench_polls (cursor_id int, due timestamptz, at timestamptz, interval float)",
    """CREATE FUNCTION bench_note_poll() RETURNS trigger AS $$
BEGIN
  IF NEW.next_poll_at IS DISTINCT FROM OLD.next_poll_at AND OLD.account_id IS NOT NULL THEN
    INSERT INTO bench_polls VALUES (OLD.id, OLD.next_poll_at, clock_timestamp(), OLD.poll_interval_seconds);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER bench_note_poll BEFORE UPDATE ON cursors FOR EACH ROW EXECUTE FUNCTION bench_note_poll()",
)


async def setup(url: str, *, accounts: int, load: Load, start: datetime, key: str) -> None:
    """Accounts, rules, cursors (due spread over one interval from `start`) and their blocked_by
    sets (known: no start-up storm of relation calls)."""
    engine = make_engine(url)
    secret = encrypt(Fernet(key.encode()), {"token": "t"})
    now = utcnow()
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Account), [
                {"id": i + 1, "platform": "mock", "handle": f"acct{i}", "credentials_encrypted": secret, "config": {},
                 "sources": [f"tag:s{i * SOURCES_PER_ACCOUNT + j}" for j in range(SOURCES_PER_ACCOUNT)],
                 "enabled": True, "status": "active", "min_interval_seconds": 0, "timezone": "UTC",
                 "conditions": {}, "created_at": now, "updated_at": now,
                 # the shape: three sources an account (30,000 for 10,000); "stop" by mention
                 # (on by default since issue 13) would add each account's mentions as a fourth
                 "stop_words_enabled": False} for i in range(accounts)])
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql("SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts))")
            await conn.execute(insert(RelationCache), [
                {"account_id": i + 1, "kind": "blocked_by", "members": [], "refreshed_at": now}
                for i in range(accounts)])
            rules = [{"account_id": i + 1, "name": f"r{j}", "query": f"#a{i}r{j}", "normalized": f"#a{i}r{j}",
                      "scope": "anyone", "authors": {}, "action": "repost", "enabled": True, "review": False,
                      "priority": 0, "created_at": now, "updated_at": now}
                     for i in range(accounts) for j in range(RULES_PER_ACCOUNT)]
            for chunk in range(0, len(rules), 10_000):
                await conn.execute(insert(Rule), rules[chunk:chunk + 10_000])
            at = start.timestamp()
            cursors = [{"account_id": i + 1, "source": f"tag:s{n}", "position": str(load.last_seq(n, at) - 1),
                        "next_poll_at": start + timedelta(seconds=_unit("due", n) * load.interval),
                        "poll_interval_seconds": load.interval, "consecutive_failures": 0, "poll_count": 0}
                       for i in range(accounts) for n in range(i * SOURCES_PER_ACCOUNT, (i + 1) * SOURCES_PER_ACCOUNT)]
            for chunk in range(0, len(cursors), 10_000):
                await conn.execute(insert(Cursor), cursors[chunk:chunk + 10_000])
            for statement in TRIGGER:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


# -- one phase ----------------------------------------------------------------------------------


@dataclass
class Phase:
    workers: int
    seconds: float
    polls: int = 0
    on_time: float = 0.0  # share of polls within 10% of the interval (overdue sources count as late)
    overdue: int = 0  # sources overdue by more than 10% of their interval at the end, not polled
    backlog: int = 0  # sources due at the end, not polled yet
    late: dict[str, float] = field(default_factory=dict)  # p50/p95/p99/max seconds
    late_share: dict[str, float] = field(default_factory=dict)  # p50/p95/p99/max % of the interval
    posts: int = 0
    sent: int = 0
    queued_end: int = 0
    oldest_due_max: float = 0.0
    load_max: float = 0.0
    load_mean: float = 0.0
    connections_max: int = 0
    by_state_max: dict[str, int] = field(default_factory=dict)
    statements: list[tuple[int, float, float, int, str]] = field(default_factory=list)
    note: str = ""
    cpu: float = 0.0  # the workers' CPU seconds (user + system, all of them) in the window
    exits: list[int | None] = field(default_factory=list)

    def per_second(self, n: int) -> float:
        return n / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user + system) the processes `pids` used so far (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def sync_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


async def sample(url: str, phase: Phase, until: float) -> None:
    """Every second: the oldest due queued action, the connections by state, the load average."""
    loads: list[float] = []
    async with await psycopg.AsyncConnection.connect(sync_url(url), autocommit=True) as conn:
        while time.monotonic() < until:
            row = await (await conn.execute(
                "SELECT extract(epoch FROM now() - min(coalesce(next_attempt_at, created_at))) FROM actions "
                "WHERE status = 'queued' AND coalesce(next_attempt_at, created_at) <= now()")).fetchone()
            phase.oldest_due_max = max(phase.oldest_due_max, float(row[0] or 0) if row else 0.0)
            states = await (await conn.execute(
                "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() GROUP BY 1")).fetchall()
            phase.connections_max = max(phase.connections_max, sum(n for _, n in states))
            for state, n in states:
                phase.by_state_max[state] = max(phase.by_state_max.get(state, 0), n)
            loads.append(os.getloadavg()[0])
            await asyncio.sleep(max(0.0, min(1.0, until - time.monotonic())))
    phase.load_max = max(loads, default=0.0)
    phase.load_mean = sum(loads) / len(loads) if loads else 0.0


async def figures(url: str, phase: Phase, begin: datetime, end: datetime) -> None:
    async with await psycopg.AsyncConnection.connect(sync_url(url), autocommit=True) as conn:
        rows = await (await conn.execute(
            "SELECT extract(epoch FROM at - due), interval FROM bench_polls WHERE at >= %s AND at < %s",
            (begin, end))).fetchall()
        late = [float(r[0]) for r in rows]
        share = [100 * float(r[0]) / float(r[1] or 1) for r in rows]
        overdue = await (await conn.execute(
            "SELECT count(*) FROM cursors WHERE account_id IS NOT NULL AND "
            "next_poll_at + make_interval(secs => 0.1 * coalesce(poll_interval_seconds, 0)) < %s", (end,))).fetchone()
        phase.polls, phase.overdue = len(rows), int(overdue[0] if overdue else 0)
        backlog = await (await conn.execute(
            "SELECT count(*) FROM cursors WHERE account_id IS NOT NULL AND next_poll_at < %s", (end,))).fetchone()
        phase.backlog = int(backlog[0] if backlog else 0)
        within = sum(1 for s in share if s <= 10)
        phase.on_time = 100 * within / (len(rows) + phase.overdue) if rows or phase.overdue else 0.0
        phase.late = {q: pct(late, v) for q, v in (("p50", .5), ("p95", .95), ("p99", .99))}
        phase.late_share = {q: pct(share, v) for q, v in (("p50", .5), ("p95", .95), ("p99", .99))}
        count = "SELECT count(*) FROM {} WHERE {} >= %s AND {} < %s"
        phase.posts = (await (await conn.execute(count.format("seen_posts", "seen_at", "seen_at"),
                                                 (begin, end))).fetchone() or (0,))[0]
        phase.sent = (await (await conn.execute(count.format("actions", "sent_at", "sent_at"),
                                                (begin, end))).fetchone() or (0,))[0]
        phase.queued_end = (await (await conn.execute(
            "SELECT count(*) FROM actions WHERE status = 'queued'")).fetchone() or (0,))[0]
        if phase.note:
            return
        statements = await (await conn.execute(
            "SELECT calls, total_exec_time, mean_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g') "
            "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT 10")).fetchall()
        phase.statements = [(int(c), float(t), float(m), int(r), str(q)) for c, t, m, r, q in statements]


async def statements_ready(url: str) -> str:
    """Turn pg_stat_statements on in this database and empty it; a note when the server lacks it."""
    async with await psycopg.AsyncConnection.connect(sync_url(url), autocommit=True) as conn:
        loaded = (await (await conn.execute("SHOW shared_preload_libraries")).fetchone() or ("",))[0]
        if "pg_stat_statements" not in loaded:
            return ("pg_stat_statements is not in shared_preload_libraries: ALTER SYSTEM SET "
                    "shared_preload_libraries='pg_stat_statements' and restart PostgreSQL to see the top queries")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
    return ""


def worker_env(url: str, key: str, load: Load, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPOSTER_")}
    env.update({"REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": key,
                "REPOSTER_POLL_INTERVAL_SECONDS": str(load.interval), "REPOSTER_LOG_LEVEL": "WARNING",
                "REPOSTER_LOG_FORMAT": "text", "REPOSTER_SHUTDOWN_GRACE_SECONDS": "2", **load.env(), **extra})
    return env


async def run_phase(url: str, *, workers: int, accounts: int, load: Load, seconds: float, warmup: float,
                    logs: Path, extra_env: dict[str, str] | None = None) -> Phase:
    """Fill the (migrated, empty) database at `url`, run `workers` workers, measure `seconds` after `warmup`."""
    key = Fernet.generate_key().decode()
    begin = utcnow() + timedelta(seconds=warmup)
    await setup(url, accounts=accounts, load=load, start=begin, key=key)
    phase = Phase(workers=workers, seconds=seconds)
    env = worker_env(url, key, load, extra_env or {})
    procs = [start_worker(env, logs / f"worker{workers}-{i}.log") for i in range(workers)]
    try:
        await asyncio.sleep(max(0.0, (begin - utcnow()).total_seconds()))
        phase.note = await statements_ready(url)  # emptied as the window opens
        cpu = cpu_seconds([p.pid for p in procs])
        await sample(url, phase, time.monotonic() + seconds)
        end = utcnow()
        phase.cpu = cpu_seconds([p.pid for p in procs]) - cpu
        await figures(url, phase, begin, end)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        phase.exits = [p.returncode for p in procs]
    return phase


def scratch(pg: str) -> tuple[str, str]:
    """A new migrated database on the server `pg`: (its SQLAlchemy URL, its name)."""
    name = f"reposter_scale_{os.getpid()}_{random.randrange(10**8)}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    return url, name


def drop(pg: str, name: str) -> None:
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the report ---------------------------------------------------------------------------------


def table(phases: list[Phase], args: argparse.Namespace, load: Load) -> str:
    base = phases[0]
    base_rate = base.per_second(base.sent + base.polls) or float("nan")
    lines = [f"{args.accounts:,} accounts, {args.accounts * SOURCES_PER_ACCOUNT:,} sources, "
             f"{args.accounts * RULES_PER_ACCOUNT:,} rules; interval {load.interval:g} s "
             f"(offered {args.accounts * SOURCES_PER_ACCOUNT / load.interval:.0f} polls/s), latency "
             f"{load.latency[0] * 1000:.0f}-{load.latency[1] * 1000:.0f} ms, match {load.match:.0%}; "
             f"{args.seconds:g} s per phase after {args.warmup:g} s warm-up; os.cpu_count()={os.cpu_count()}", "",
             "workers | polls/s | posts/s | sent/s | x1 (polls+sent) | on time | due at end (>10% late) "
             "| late p50/p95/p99 s "
             "| late % of interval p50/p95/p99 | oldest due action max s | queued at end | conns max "
             "(active/idle/idle in tx) | load avg mean/max | workers' CPU s/s | polls per CPU s",
             "---|---|---|---|---|---|---|---|---|---|---|---|---|---|---"]
    for p in phases:
        ratio = p.per_second(p.sent + p.polls) / base_rate
        states = "/".join(str(p.by_state_max.get(s, 0)) for s in ("active", "idle", "idle in transaction"))
        lines.append(f"{p.workers} | {p.per_second(p.polls):.1f} | {p.per_second(p.posts):.1f} | "
                     f"{p.per_second(p.sent):.1f} | {ratio:.2f} | {p.on_time:.1f} % | {p.backlog} ({p.overdue}) | "
                     f"{p.late['p50']:.2f}/{p.late['p95']:.2f}/{p.late['p99']:.2f} | "
                     f"{p.late_share['p50']:.1f}/{p.late_share['p95']:.1f}/{p.late_share['p99']:.1f} | "
                     f"{p.oldest_due_max:.1f} | {p.queued_end} | {p.connections_max} ({states}) | "
                     f"{p.load_mean:.1f}/{p.load_max:.1f} | {p.per_second(p.cpu):.2f} | "
                     f"{p.polls / p.cpu if p.cpu else float('nan'):.1f}")
    for p in phases:
        lines += ["", f"pg_stat_statements, {p.workers} worker(s): top 10 by total time"]
        if p.note:
            lines.append(f"  ({p.note})")
            continue
        lines.append("calls | total ms | mean ms | rows | query")
        lines.append("---|---|---|---|---")
        lines += [f"{c} | {t:.0f} | {m:.2f} | {r} | {q[:110]}" for c, t, m, r, q in p.statements]
    if any(code not in (0, None) for p in phases for code in p.exits):
        lines.append(f"\nworker exit codes: {[p.exits for p in phases]} (logs: {args.logs})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="a PostgreSQL server URL; a scratch database is made and dropped per phase")
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--interval", type=float, default=None,
                        help="each source's poll interval, s (default: sources / --poll-rate)")
    parser.add_argument("--poll-rate", type=float, default=60.0, help="polls a second offered (sets --interval)")
    parser.add_argument("--latency", default="0.05,0.2", help="the platform's answer time, min,max seconds")
    parser.add_argument("--match", type=float, default=0.1, help="share of posts that match a rule")
    parser.add_argument("--seconds", type=float, default=90.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=25.0, help="seconds for the workers to start and compile")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the workers (REPOSTER_...)")
    parser.add_argument("--logs", default=None, help="folder for the workers' logs (default: a temp folder)")
    args = parser.parse_args()
    sources = args.accounts * SOURCES_PER_ACCOUNT
    low, high = (float(x) for x in args.latency.split(","))
    load = Load(args.interval or sources / args.poll_rate, (low, high), args.match)
    args.logs = args.logs or tempfile.mkdtemp(prefix="scale-logs-")
    Path(args.logs).mkdir(parents=True, exist_ok=True)
    extra = dict(item.split("=", 1) for item in args.env)
    phases = []
    for workers in args.workers:
        url, name = scratch(args.pg)
        try:
            phases.append(asyncio.run(run_phase(url, workers=workers, accounts=args.accounts, load=load,
                                                seconds=args.seconds, warmup=args.warmup, logs=Path(args.logs),
                                                extra_env=extra)))
        finally:
            drop(args.pg, name)
        print(f"  ({workers} worker(s) done)", file=sys.stderr)
    print(table(phases, args, load))


if __name__ == "__main__":
    main()
