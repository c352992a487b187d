"""Rolling restarts of worker containers while posts arrive: nothing lost, nothing sent twice.

    bench/image.sh build && python bench/image_restart.py        # as root, podman on the host
    python bench/image_restart.py --posts 120 --workers 2 --restarts 6

The image's `reposter worker` runs in `--workers` podman containers (network host) against a
private PostgreSQL and bench/faults.py's fake Mastodon instance over real HTTP (a boost takes
0.15 s, so a stop lands mid-send). While the posts are published, the workers are restarted one
at a time as an orchestrator does it: `podman stop` (SIGTERM, 30 s before a kill, as compose.yaml's
stop_grace_period), then `podman start`. Leases are the defaults (120 s), so work a stopped
worker held would sit for two minutes if it were not given back at once. Printed: bench/faults.py's
figures (duplicates and lost posts must be 0), each stop's time and exit code, what the stopped
workers said they finished or cancelled, and how long after the last post every post was boosted.

With `--compose` the workers are compose.yaml's own `worker` service, started by Docker Compose v2
(`docker compose up -d --no-deps --scale worker=N worker`, bench/compose_v2.sh sets it up) in a
project of its own, with an override that only puts them on the host's network and points .env at
the private PostgreSQL; `--restart-with` then picks how they are restarted while posts arrive:
`stop-start` (one at a time: `docker stop`, whose timeout compose set from stop_grace_period,
then `docker start`), `compose-restart` (`docker compose restart worker`: all replicas together)
or `recreate` (`docker compose up -d --no-deps --force-recreate worker`, as an upgrade does).

    bench/compose_v2.sh build && python bench/image_restart.py --compose --restart-with recreate
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet

from app.config import Settings
from app.db.migrate import upgrade
from bench.faults import (
    TAG,
    Instance,
    Options,
    PrivatePostgres,
    Report,
    _connect,
    _first_poll_done,
    _statuses,
)

IMAGE = os.environ.get("IMAGE", "localhost/reposter:latest")


ENGINE = "podman"


def podman(*args: str) -> str:
    """Run podman (with bench/image.sh's config, if it wrote one) or docker (`--compose`); its stdout
    and stderr (where a container's log lines are, for `logs`)."""
    env = dict(os.environ)
    conf = Path(os.environ.get("WORK_DIR", "/var/tmp/reposter-image")) / "containers.conf"
    if ENGINE == "podman" and conf.exists():
        env["CONTAINERS_CONF"] = str(conf)
    done = subprocess.run([ENGINE, *args], env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    return done.stdout.strip()


class ContainerWorkers:
    """`reposter worker` in podman containers, restarted one at a time with SIGTERM."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.names = [f"reposter-restart-w{i}" for i in range(count)]
        flags = [item for name, value in env.items() for item in ("-e", f"{name}={value}")]
        for name in self.names:
            subprocess.run(["podman", "rm", "-f", name], capture_output=True)
            podman("run", "-d", "--name", name, "--network", "host", *flags, IMAGE, "worker")
        self.stops: list[tuple[str, float, str]] = []
        self.next = 0

    def restart_one(self) -> None:
        """SIGTERM the next worker in turn, wait for it to exit, start it again."""
        name = self.names[self.next % len(self.names)]
        self.next += 1
        started = time.monotonic()
        podman("stop", "-t", "30", name)
        took = time.monotonic() - started
        self.stops.append((name, took, podman("inspect", "-f", "{{.State.ExitCode}}", name)))
        podman("start", name)

    def shutdown_lines(self) -> list[dict]:
        """What the workers logged as they stopped (work finished or cancelled, leases released)."""
        lines = []
        for name in self.names:
            lines += _shutdown_lines(podman("logs", name))
        return lines

    def remove(self) -> None:
        for name in self.names:
            podman("rm", "-f", "-t", "30", name)


def _shutdown_lines(log: str) -> list[dict]:
    return [json.loads(line) for line in log.splitlines() if '"shutdown: ' in line or '"worker stopped"' in line]


# What the bench changes in compose.yaml: the workers reach the private PostgreSQL and the fake
# instance on the host's 127.0.0.1, and start without the db and migrate services (--no-deps).
COMPOSE_OVERRIDE = """services:
  worker:
    network_mode: host
"""


class ComposeWorkers:
    """compose.yaml's `worker` service under Docker Compose v2, restarted as `how` says."""

    def __init__(self, count: int, env: dict[str, str], how: str) -> None:
        self.how, self.count = how, count
        self.dir = Path(tempfile.mkdtemp(prefix="reposter-compose-"))
        shutil.copy(ROOT / "compose.yaml", self.dir / "compose.yaml")
        (self.dir / "compose.bench.yaml").write_text(COMPOSE_OVERRIDE)
        env = {**env, "POSTGRES_PASSWORD": "unused", "REPOSTER_IMAGE": IMAGE}
        (self.dir / ".env").write_text("".join(f"{name}={value}\n" for name, value in env.items()))
        self.compose("up", "-d", "--no-deps", "--scale", f"worker={count}", "worker")
        self.names = self.containers()
        self.stops: list[tuple[str, float, str]] = []
        self.next = 0
        self.gone: list[str] = []  # logs of containers a recreate removed
        self.waits: list[subprocess.Popen[str]] = []

    def compose(self, *args: str) -> str:
        return podman("compose", "--project-directory", str(self.dir), "-p", "reposter-restart",
                      "-f", str(self.dir / "compose.yaml"), "-f", str(self.dir / "compose.bench.yaml"), *args)

    def containers(self) -> list[str]:
        return self.compose("ps", "-q", "worker").split()

    def restart_one(self) -> None:
        self.next += 1
        started = time.monotonic()
        if self.how == "stop-start":
            name = self.names[(self.next - 1) % len(self.names)]
            podman("stop", name)  # no -t: the container's stop timeout, from stop_grace_period
            took = time.monotonic() - started
            self.stops.append((name[:12], took, podman("inspect", "-f", "{{.State.ExitCode}}", name)))
            podman("start", name)
            return
        before = self.names
        # each old container's log and exit code, taken while it stops (a recreate removes it)
        follow = [subprocess.Popen([ENGINE, "logs", "-f", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True) for name in before]
        waits = [subprocess.Popen([ENGINE, "wait", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for name in before]
        if self.how == "compose-restart":
            self.compose("restart", "worker")
        else:
            self.compose("up", "-d", "--no-deps", "--force-recreate", "--scale", f"worker={self.count}", "worker")
            self.names = self.containers()
        took = time.monotonic() - started
        for name, wait, logs in zip(before, waits, follow, strict=True):
            code = wait.communicate(timeout=60)[0].strip()
            if self.how == "recreate":
                self.gone.append(logs.communicate(timeout=60)[0])
            else:
                logs.kill()
                logs.wait()
            self.stops.append((name[:12], took, code or "?"))

    def shutdown_lines(self) -> list[dict]:
        lines = [line for log in self.gone for line in _shutdown_lines(log)]
        for name in self.names:
            lines += _shutdown_lines(podman("logs", name))
        return lines

    def remove(self) -> None:
        self.compose("down", "-t", "30")
        shutil.rmtree(self.dir, ignore_errors=True)


ROOT = Path(__file__).resolve().parents[1]


async def run(posts: int, workers_count: int, restarts: int, feed_seconds: float, how: str | None) -> int:
    """One run; 0 when nothing was lost or sent twice."""
    options = Options(posts=posts, workers=workers_count, kills=0, fault_rate=0.0, pg_restart=False,
                      feed_seconds=feed_seconds, settle_seconds=60.0)
    root = Path(tempfile.mkdtemp(prefix="reposter-restart-"))
    os.chmod(root, 0o777)
    pg = PrivatePostgres(root / "pg")
    key = Fernet.generate_key().decode()
    settings = Settings(_env_file=None, database_url=pg.url, encryption_key=key, run_scheduler=False)
    await asyncio.to_thread(upgrade, settings.database_url)
    instance = Instance(options)
    report = Report()
    workers: ContainerWorkers | ComposeWorkers | None = None
    try:
        instance.publish(f"the first cup #{TAG}")
        await _connect(settings, instance)
        env = {"REPOSTER_DATABASE_URL": pg.url, "REPOSTER_ENCRYPTION_KEY": key,
               "REPOSTER_DISPATCH_INTERVAL_SECONDS": "0.5", "REPOSTER_POLL_INTERVAL_SECONDS": "0.5",
               "REPOSTER_RETRY_BASE_SECONDS": "0.5", "REPOSTER_FIRST_POLL_MAX_AGE_SECONDS": "1e10"}
        workers = (ContainerWorkers(workers_count, env) if how is None
                   else ComposeWorkers(workers_count, env, how))
        for _ in range(300):  # a minute for a worker to start and poll the source once
            if await _first_poll_done(settings):
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError(f"no worker polled within a minute: {ENGINE} logs {workers.names[0]}")
        started = time.monotonic()
        every = max(1, posts // max(1, restarts))
        restarting: asyncio.Future | None = None
        for n in range(posts):
            instance.publish(f"cup number {n} #{TAG}")
            # one worker at a time, as a rolling restart goes; the feed goes on meanwhile
            if n % every == every - 1 and workers.next < restarts and (restarting is None or restarting.done()):
                for _ in range(40):  # a boost in flight, so the SIGTERM lands mid-send
                    if instance.in_flight:
                        break
                    await asyncio.sleep(0.02)
                restarting = asyncio.ensure_future(asyncio.to_thread(workers.restart_one))
            await asyncio.sleep(feed_seconds / posts)
        if restarting is not None:
            await restarting
        fed = time.monotonic()
        while time.monotonic() - fed < options.settle_seconds:
            statuses = await _statuses(settings)
            if statuses.get("done", 0) >= posts + 1 and not set(statuses) - {"done"}:
                break
            await asyncio.sleep(0.25)
        settled = time.monotonic() - fed
        report.statuses = await _statuses(settings)
        stops, said = workers.stops, workers.shutdown_lines()
    finally:
        if workers is not None and not os.environ.get("KEEP"):
            workers.remove()
        instance.close()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    ours = [s for s in instance.fake.statuses.values() if s["account"]["id"] == instance.author["id"]]
    counts = [len(instance.fake.boosts_of(s["id"])) for s in ours]
    report.posts, report.reposted = len(ours), sum(c > 0 for c in counts)
    report.boosts, report.boosted_twice = sum(counts), sum(c > 1 for c in counts)
    report.lost = sum(c == 0 for c in counts)
    report.reblog_calls, report.duplicate_calls = instance.reblog_calls, instance.duplicate_calls
    report.seconds = time.monotonic() - started
    _print(report, stops, said, settled, how)
    return 0 if report.duplicate_calls == report.lost == report.boosted_twice == 0 else 1


def _print(report: Report, stops: list[tuple[str, float, str]], said: list[dict], settled: float,
           how: str | None) -> None:
    skip = ("answers lost", "workers killed", "PostgreSQL restarts")
    print("\n".join(line for line in report.lines() if not line.startswith(skip)))
    print(f"restarts (SIGTERM, {how or 'podman stop-start'}) {len(stops)}: stop took "
          + ", ".join(f"{took:.1f}s (exit {code})" for _, took, code in stops))
    work = [line for line in said if line["message"] == "shutdown: work in hand"]
    released = [line for line in said if line["message"] == "shutdown: leases released"]
    print(f"work in hand at SIGTERM: finished {sum(w['finished'] for w in work)}, "
          f"cancelled {sum(w['cancelled'] for w in work)}; leases given back: cursors "
          f"{sum(r['released_cursors'] for r in released)}, actions {sum(r['released_actions'] for r in released)}")
    # the worker's own part of a stop: from its first shutdown line to its last (podman adds its own)
    begun = [datetime.fromisoformat(x["time"]) for x in said if x["message"] == "shutdown: scheduler stopped"]
    ended = [datetime.fromisoformat(x["time"]) for x in said if x["message"] == "worker stopped"]
    print("worker shutdown, scheduler stopped -> worker stopped: "
          + ", ".join(f"{(b - a).total_seconds():.2f}s" for a, b in zip(begun, ended, strict=False)))
    print(f"every post boosted {settled:.1f}s after the last was published (leases last 120 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--restarts", type=int, default=6)
    parser.add_argument("--feed-seconds", type=float, default=30.0)
    parser.add_argument("--compose", action="store_true", help="compose.yaml's workers under Docker Compose v2")
    parser.add_argument("--restart-with", choices=("stop-start", "compose-restart", "recreate"), default="stop-start")
    args = parser.parse_args()
    global ENGINE
    if args.compose:
        ENGINE = "docker"
    sys.exit(asyncio.run(run(args.posts, args.workers, args.restarts, args.feed_seconds,
                             args.restart_with if args.compose else None)))


if __name__ == "__main__":
    main()
