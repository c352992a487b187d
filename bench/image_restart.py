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


def podman(*args: str) -> str:
    """Run podman with bench/image.sh's config (if it wrote one); its stdout and stderr (where a
    container's log lines are, for `logs`)."""
    env = dict(os.environ)
    conf = Path(os.environ.get("WORK_DIR", "/var/tmp/reposter-image")) / "containers.conf"
    if conf.exists():
        env["CONTAINERS_CONF"] = str(conf)
    done = subprocess.run(["podman", *args], env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
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
            for line in podman("logs", name).splitlines():
                if '"shutdown: ' in line or '"worker stopped"' in line:
                    lines.append(json.loads(line))
        return lines

    def remove(self) -> None:
        for name in self.names:
            podman("rm", "-f", "-t", "30", name)


async def run(posts: int, workers_count: int, restarts: int, feed_seconds: float) -> int:
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
    report, workers = Report(), None
    try:
        instance.publish(f"the first cup #{TAG}")
        await _connect(settings, instance)
        workers = ContainerWorkers(workers_count, {
            "REPOSTER_DATABASE_URL": pg.url, "REPOSTER_ENCRYPTION_KEY": key,
            "REPOSTER_DISPATCH_INTERVAL_SECONDS": "0.5", "REPOSTER_POLL_INTERVAL_SECONDS": "0.5",
            "REPOSTER_RETRY_BASE_SECONDS": "0.5", "REPOSTER_FIRST_POLL_MAX_AGE_SECONDS": "1e10"})
        for _ in range(300):  # a minute for a worker to start and poll the source once
            if await _first_poll_done(settings):
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError(f"no worker polled within a minute: podman logs {workers.names[0]}")
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
    _print(report, stops, said, settled)
    return 0 if report.duplicate_calls == report.lost == report.boosted_twice == 0 else 1


def _print(report: Report, stops: list[tuple[str, float, str]], said: list[dict], settled: float) -> None:
    skip = ("answers lost", "workers killed", "PostgreSQL restarts")
    print("\n".join(line for line in report.lines() if not line.startswith(skip)))
    print(f"rolling restarts (SIGTERM) {len(stops)}: stop took "
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
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.posts, args.workers, args.restarts, args.feed_seconds)))


if __name__ == "__main__":
    main()
