"""A fault run: nothing sent twice, nothing lost, with workers killed and the database restarted.

    python bench/faults.py                          # 150 posts, 3 workers, a private PostgreSQL
    python bench/faults.py --posts 400 --kills 20 --fault-rate 0.3

What runs: a private PostgreSQL (initdb + pg_ctl on its own port under a temp dir, so other
users of the machine's server are not disturbed), the fake Mastodon instance playing GoToSocial
(a new boost for every reblog call) served over real HTTP on 127.0.0.1, whose writes are answered
with a TCP reset or a 502 *after* it acted (`--fault-rate`), and `--workers` `reposter worker`
processes. While posts arrive, workers are killed with SIGKILL while a boost is in flight (and
started again), and PostgreSQL is restarted once. At the end it prints posts, reposts, duplicate
calls (a reblog call for a status we had already boosted: each makes a second boost on
GoToSocial; must be 0) and lost posts (published but never boosted; must be 0).

`run()` is also what tests/test_faults.py runs, a short version of a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The imports below (E402) come after the line above: the bench runs as a script from any folder.

import httpx  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.auth.caller import Role  # noqa: E402
from app.auth.schemas import TokenCreate  # noqa: E402
from app.auth.service import create as create_token  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402
from app.db.session import transaction  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Action, Cursor  # noqa: E402
from app.runtime import Runtime  # noqa: E402
from tests.platforms.faults import ResetAfterActing  # noqa: E402
from tests.platforms.mastodon.fake_server import FakeMastodon  # noqa: E402

TAG = "coffee"


@dataclass
class Options:
    posts: int = 150
    workers: int = 3
    kills: int = 8
    fault_rate: float = 0.3
    pg_restart: bool = True
    feed_seconds: float = 20.0
    settle_seconds: float = 120.0
    send_delay: float = 0.15  # the instance takes this long over a boost: kills land mid-send
    seed: int = 9
    quiet: bool = False
    keep: bool = False  # keep the workers' logs (and say where)


@dataclass
class Report:
    posts: int = 0
    reposted: int = 0
    boosts: int = 0
    reblog_calls: int = 0
    duplicate_calls: int = 0
    boosted_twice: int = 0
    lost: int = 0
    faults: int = 0
    kills: int = 0
    pg_restarts: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"posts published         {self.posts}",
            f"posts reposted          {self.reposted}",
            f"boosts on the instance  {self.boosts}",
            f"reblog calls            {self.reblog_calls}",
            f"duplicate calls         {self.duplicate_calls}   (must be 0)",
            f"posts boosted twice     {self.boosted_twice}   (must be 0)",
            f"lost posts              {self.lost}   (must be 0)",
            f"answers lost after acting (reset/502)  {self.faults}",
            f"workers killed (SIGKILL)               {self.kills}",
            f"PostgreSQL restarts                    {self.pg_restarts}",
            f"actions by status       {json.dumps(self.statuses, sort_keys=True)}",
            f"seconds                 {self.seconds:.1f}",
        ]


# -- the instance over real HTTP --------------------------------------------------------------


class Instance:
    """The fake GoToSocial on a real socket; counts reblog calls and those for boosted statuses."""

    def __init__(self, options: Options) -> None:
        self.fake = FakeMastodon(boost_per_call=True)
        self.lock = threading.Lock()
        self.options = options
        self.reblog_calls = self.duplicate_calls = 0
        self.in_flight = 0
        self.author = self.fake.add_account("alice")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.fake.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, text: str) -> str:
        with self.lock:
            return self.fake.new_status(self.author, text)["id"]

    def boosts(self, status_id: str) -> int:
        with self.lock:
            return len(self.fake.boosts_of(status_id))

    def _handler(self):
        instance = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = httpx.Request(self.command, f"{instance.fake.base}{self.path}",
                                        headers=dict(self.headers.items()), content=body)
                reblog = self.command == "POST" and self.path.endswith("/reblog")
                try:
                    response = instance.answer(request, reblog)
                except ResetAfterActing:
                    # The instance acted; the client gets a TCP reset instead of the answer.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        return Handler

    def answer(self, request: httpx.Request, reblog: bool) -> httpx.Response:
        """The fake's answer; a reblog takes `send_delay` after acting (kills land in between)."""
        if reblog:
            status_id = request.url.path.split("/")[-2]
            with self.lock:
                self.reblog_calls += 1
                self.duplicate_calls += bool(self.fake.boosts_of(status_id))
                self.in_flight += 1
        try:
            with self.lock:
                response = self.fake.handle(request)
            if reblog:
                time.sleep(self.options.send_delay)
            return response
        finally:
            if reblog:
                with self.lock:
                    self.in_flight -= 1

    def close(self) -> None:
        self.server.shutdown()


# -- a private PostgreSQL ---------------------------------------------------------------------


class PrivatePostgres:
    """initdb + pg_ctl on a free port under a temp dir (as the postgres user when run as root)."""

    def __init__(self, root: Path) -> None:
        self.bin = _pg_bin()
        self.data, self.sock = root / "pgdata", root / "pgsock"
        self.port = _free_port()
        for path in (self.data, self.sock):
            path.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres"), shutil.chown(self.data, "postgres"), shutil.chown(self.sock, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.log = root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.sock} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-m", "fast", action)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart")

    def stop(self) -> None:
        self._ctl("stop")


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("initdb not found: install PostgreSQL's server binaries")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the workers ------------------------------------------------------------------------------


class Workers:
    """`reposter worker` processes, killed with SIGKILL and started again."""

    def __init__(self, count: int, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[subprocess.Popen] = [self._start(i) for i in range(count)]
        self.kills = 0

    def _start(self, index: int) -> subprocess.Popen:
        log = open(self.logs / f"worker{index}-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115 - the worker writes to it until killed
        code = "import sys; from app.cli import main; sys.argv = ['reposter', 'worker']; main()"
        return subprocess.Popen([sys.executable, "-c", code], env=self.env, cwd=ROOT, stdout=log, stderr=log)

    def check_alive(self) -> None:
        """Fail at once if every worker exited by itself (a bad setting, say): nothing would poll."""
        if all(proc.poll() is not None for proc in self.procs):
            last = max(self.logs.iterdir(), key=lambda path: path.stat().st_mtime)
            tail = last.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError("every worker exited on its own:\n" + "\n".join(tail))

    def kill_one(self, rng: random.Random) -> None:
        index = rng.randrange(len(self.procs))
        self.procs[index].send_signal(signal.SIGKILL)
        self.procs[index].wait()
        self.kills += 1
        self.procs[index] = self._start(index)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


# -- the run ----------------------------------------------------------------------------------


async def _connect(settings: Settings, instance: Instance) -> int:
    """The bot's account and a #coffee rule, made through the API as an owner would."""
    runtime = Runtime.build(settings)
    try:
        async with transaction(runtime.sessions) as session:
            _, secret = await create_token(session, data=TokenCreate(name="bench", role=Role.admin, account_ids=[]),
                                           caller=None)
        headers = {"Authorization": f"Bearer {secret}"}
        app = create_app(runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as api:
            body = {"platform": "mastodon", "handle": "reposter_bot", "sources": [f"tag:{TAG}"],
                    "credentials": {"access_token": instance.fake.token},
                    "config": {"base_url": instance.fake.base}}
            account = await api.post("/api/v1/accounts", json=body, headers=headers)
            assert account.status_code == 201, account.text
            rule = {"name": "coffee", "query": f"#{TAG}"}
            created = await api.post(f"/api/v1/accounts/{account.json()['id']}/rules", json=rule, headers=headers)
            assert created.status_code == 201, created.text
            return account.json()["id"]
    finally:
        await runtime.close()


async def _first_poll_done(settings: Settings) -> bool:
    runtime = Runtime.build(settings)
    try:
        async with runtime.sessions() as session:
            return bool(await session.scalar(select(func.count()).where(Cursor.position.is_not(None))))
    finally:
        await runtime.close()


async def _statuses(settings: Settings) -> dict[str, int]:
    runtime = Runtime.build(settings)
    try:
        async with runtime.sessions() as session:
            rows = await session.execute(select(Action.status, func.count()).group_by(Action.status))
            return dict(rows.all())
    finally:
        await runtime.close()


def _say(options: Options, text: str) -> None:
    if not options.quiet:
        print(text, flush=True)


async def run(options: Options) -> Report:
    """One fault run; returns its figures."""
    rng = random.Random(options.seed)
    root = Path(tempfile.mkdtemp(prefix="reposter-faults-"))
    os.chmod(root, 0o777)
    pg = PrivatePostgres(root / "pg")
    url = pg.url
    key = Fernet.generate_key().decode()
    settings = Settings(_env_file=None, database_url=url, encryption_key=key, run_scheduler=False)
    await asyncio.to_thread(upgrade, settings.database_url)  # alembic runs its own event loop
    instance = Instance(options)
    report = Report()
    started = time.monotonic()
    workers = None
    try:
        instance.publish(f"the first cup #{TAG}")  # seen by the source's first poll
        await _connect(settings, instance)
        instance.fake.after_acting.rate = options.fault_rate
        (root / "logs").mkdir()
        env = {**os.environ, "REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": key,
               # a call must end within its row's lease (Settings refuses budgets >= lease_seconds)
               "REPOSTER_LEASE_SECONDS": "5", "REPOSTER_POLL_BUDGET_SECONDS": "3",
               "REPOSTER_SEND_BUDGET_SECONDS": "3", "REPOSTER_DISPATCH_INTERVAL_SECONDS": "0.5",
               "REPOSTER_POLL_INTERVAL_SECONDS": "0.5", "REPOSTER_RETRY_BASE_SECONDS": "0.5",
               "REPOSTER_MAX_ATTEMPTS": "50", "REPOSTER_FIRST_POLL_MAX_AGE_SECONDS": "1e10",
               "REPOSTER_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        workers = Workers(options.workers, env, root / "logs")
        # A source's first poll takes only the newest page (what came before it is history, not
        # news): feed the posts once it has run, so that every post is news to the workers.
        while not await _first_poll_done(settings):
            workers.check_alive()
            await asyncio.sleep(0.2)
        await _feed_and_break(options, instance, workers, pg, rng, report)
        deadline = time.monotonic() + options.settle_seconds
        while time.monotonic() < deadline:
            statuses = await _statuses(settings)
            if statuses.get("done", 0) >= options.posts + 1 and not set(statuses) - {"done"}:
                break
            await asyncio.sleep(0.5)
    finally:
        if workers is not None:
            workers.stop()
            report.kills = workers.kills
        report.statuses = await _statuses(settings)
        instance.close()
        pg.stop()
        if options.keep:
            _say(options, f"  logs kept in {root / 'logs'}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    ours = [s for s in instance.fake.statuses.values() if s["account"]["id"] == instance.author["id"]]
    counts = [len(instance.fake.boosts_of(s["id"])) for s in ours]
    report.posts, report.reposted = len(ours), sum(c > 0 for c in counts)
    report.boosts, report.boosted_twice = sum(counts), sum(c > 1 for c in counts)
    report.lost = sum(c == 0 for c in counts)
    report.reblog_calls, report.duplicate_calls = instance.reblog_calls, instance.duplicate_calls
    report.faults = instance.fake.after_acting.struck
    report.seconds = time.monotonic() - started
    return report


async def _feed_and_break(options: Options, instance: Instance, workers: Workers, pg, rng: random.Random,
                          report: Report) -> None:
    """Publish the posts over `feed_seconds`; meanwhile kill workers mid-boost and restart PostgreSQL once."""
    gap = options.feed_seconds / max(1, options.posts)
    kill_every = max(1, options.posts // max(1, options.kills)) if options.kills else 0
    restart_at = options.posts // 2 if options.pg_restart else -1
    for n in range(options.posts):
        instance.publish(f"cup number {n} #{TAG}")
        if kill_every and n % kill_every == kill_every - 1 and workers.kills < options.kills:
            for _ in range(40):  # wait (a little) for a boost in flight, so the kill lands mid-send
                if instance.in_flight:
                    break
                await asyncio.sleep(0.02)
            workers.kill_one(rng)
            _say(options, f"  killed a worker at post {n} ({workers.kills} so far)")
        if n == restart_at:
            pg.restart()
            report.pg_restarts += 1
            _say(options, f"  restarted PostgreSQL at post {n}")
        await asyncio.sleep(gap)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=Options.posts)
    parser.add_argument("--workers", type=int, default=Options.workers)
    parser.add_argument("--kills", type=int, default=Options.kills)
    parser.add_argument("--fault-rate", type=float, default=Options.fault_rate)
    parser.add_argument("--feed-seconds", type=float, default=Options.feed_seconds)
    parser.add_argument("--settle-seconds", type=float, default=Options.settle_seconds,
                        help="how long to wait after the feed for every post to be sent; Mastodon's own window "
                             "(200 reposts per 5 minutes an account) holds posts past the 200th for up to 300 s")
    parser.add_argument("--no-pg-restart", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="keep the workers' logs")
    args = parser.parse_args()
    options = Options(posts=args.posts, workers=args.workers, kills=args.kills, fault_rate=args.fault_rate,
                      feed_seconds=args.feed_seconds, settle_seconds=args.settle_seconds,
                      pg_restart=not args.no_pg_restart, keep=args.keep_logs)
    report = asyncio.run(run(options))
    print("\n".join(report.lines()))
    sys.exit(0 if report.duplicate_calls == 0 and report.lost == 0 and report.boosted_twice == 0 else 1)


if __name__ == "__main__":
    main()
