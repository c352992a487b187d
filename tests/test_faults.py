"""The fault run of bench/faults.py, short: a few seconds of posts with three worker processes on a
private PostgreSQL, answers lost after the instance acted, workers killed mid-send, one database
restart. Nothing may be sent twice and no post may be lost."""

import importlib.util
import shutil
import sys
from pathlib import Path

from tests.ci import unavailable

BENCH = Path(__file__).resolve().parents[1] / "bench" / "faults.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_faults", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _have_initdb() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or shutil.which("initdb"))


async def test_a_short_fault_run_sends_nothing_twice_and_loses_nothing():
    if not _have_initdb():
        unavailable("PostgreSQL's server binaries (initdb, pg_ctl) are needed for a private instance")
    bench = _bench()
    options = bench.Options(posts=16, workers=3, kills=2, fault_rate=0.3, feed_seconds=3.0, settle_seconds=90.0,
                            quiet=True)

    report = await bench.run(options)

    assert report.kills == 2 and report.pg_restarts == 1 and report.faults > 0, report.lines()
    assert report.posts == 17 and report.reposted == 17, report.lines()
    assert report.duplicate_calls == 0 and report.boosted_twice == 0 and report.lost == 0, report.lines()
    assert report.statuses == {"done": 17}, report.lines()
