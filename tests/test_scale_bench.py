"""bench/scale.py at a tiny size, so that the script cannot rot: 20 accounts (60 sources, 200 rules)
and two real `reposter worker` processes on a scratch PostgreSQL database, for a few seconds."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

from app.db.migrate import upgrade
from tests.conftest import PG_SERVER, _drop_database, _postgres_database

BENCH = Path(__file__).resolve().parents[1] / "bench" / "scale.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_scale", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_tiny_scale_run_polls_sends_and_reports(tmp_path):
    bench = _bench()
    name = _postgres_database()
    url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    try:
        upgrade(url)
        load = bench.Load(interval=6.0, latency=(0.01, 0.02), match=0.5)
        phase = asyncio.run(bench.run_phase(url, workers=2, accounts=20, load=load, seconds=4, warmup=5,
                                            logs=tmp_path))
    finally:
        _drop_database(name)
    logs = "\n".join(p.read_text()[-3000:] for p in tmp_path.glob("*.log"))
    assert phase.exits == [0, 0], logs
    assert phase.polls > 0 and phase.posts > 0, logs
    # nothing crashed: a poll crash is logged and counted as a poll (a feed the bench's fake did not
    # know, `mentions`, once crashed every fourth poll while the figures looked plausible)
    errors = [line for p in tmp_path.glob("*.log") for line in p.read_text().splitlines() if " ERROR " in line]
    assert not errors, "\n".join(errors[:10])
    assert phase.connections_max > 0 and phase.load_max > 0
    assert phase.statements or phase.note  # the top queries, or why they are not there
    assert "| polls/s |" in bench.table([phase], bench.argparse.Namespace(accounts=20, seconds=4, warmup=5,
                                                                          logs=str(tmp_path)), load)
