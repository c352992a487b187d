"""The demo's setup runs on the services as they are (it broke once when they gained an argument),
and its community gets reposted, skipped and reviewed by the pipeline."""

import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
from sqlalchemy import select

from app import demo
from app.models import Action, Block
from app.platforms.mock import community
from app.platforms.mock.world import get_world

# `reposter` as the console script runs it (app.cli:main), from this interpreter: no install step needed
REPOSTER = [sys.executable, "-m", "app.cli"]


async def test_the_demo_sets_up_and_reposts(runtime, pipeline):
    secret, _ = await demo.setup(runtime)
    assert secret
    await pipeline.tick()  # the first poll: the sources' starting point
    world, rng = get_world("default"), random.Random(3)
    for _ in range(60):
        community.step(world, rng)
    await pipeline.tick()
    async with runtime.sessions() as session:
        statuses = [a.status for a in await session.scalars(select(Action))]
        [block] = (await session.scalars(select(Block))).all()
    assert block.pending is False and block.handle == community.SPAMMER
    assert "done" in statuses and "skipped" in statuses


def test_an_activity_line_labels_the_action_id_and_the_post_id():
    action = Action(id=105, post_id="145", author_handle="olga", status="review", reason="rule asks for review")
    line = demo._line(action, "Latte art")
    assert line.split() == ["REVIEW", "action", "105", "(post", "#145)", "by", "@olga", "[rule:", "Latte", "art]",
                            "(rule", "asks", "for", "review)"]


class Demo:
    """`reposter demo` in a subprocess, its stdout read line by line as it comes (through a pipe, as
    `reposter demo | tee log` reads it)."""

    def __init__(self, tmp_path, *args: str):
        self.proc = subprocess.Popen([*REPOSTER, "demo", "--db", str(tmp_path / "demo.db"), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": ""})
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.seen: list[str] = []

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def until(self, wanted: str, seconds: float = 90) -> str:
        """The first line (from now on) containing `wanted`, while the demo still runs."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if wanted in line:
                return line
        raise AssertionError(f"no line with {wanted!r} in {seconds}s; got {self.seen}")

    def interrupt(self) -> tuple[str, str]:
        """Ctrl-C; (everything it printed on stdout, its stderr) once it has ended."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)  # not communicate(): it would read stdout beside the reader thread
        err = self.proc.stderr.read()
        self.reader.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen), err


def _when_up(client: httpx.Client, path: str, seconds: float = 30) -> httpx.Response:
    """GET once the server answers (the banner is printed as the server starts, not after)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return client.get(path)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_demo_prints_as_it_goes_refuses_a_second_on_its_port_and_stops_on_ctrl_c(tmp_path):
    first = Demo(tmp_path, "--port", "0", "--post-every", "0.3")
    try:
        board = first.until("  dashboard ").split()
        api = first.until("  API ").split()[1]
        port = api.split(":")[2].split("/")[0]
        activity = first.until(") by @")  # flushed line by line: read while the demo runs
        assert re.search(r"(REPOSTED|skipped|REVIEW|failed) +action \d+ \(post #\d+\) by @", activity), activity
        # the printed sign-in works: the dashboard's overview shows the demo's account
        with httpx.Client(base_url=board[1], follow_redirects=True) as browser:
            shown = _when_up(browser, "/signin")
            token = re.search(r'name="csrf" value="([^"]+)"', shown.text).group(1)
            name, password = board[board.index("as") + 1], board[-1]
            signed = browser.post("/signin", data={"csrf": token, "name": name, "password": password})
            assert signed.status_code == 200 and "coffeeclub" in signed.text and "Overview" in signed.text
        assert first.proc.poll() is None
        second = subprocess.run([*REPOSTER, "demo", "--port", port, "--db", str(tmp_path / "second.db")],
                                capture_output=True, text=True, timeout=60)
        out, err = first.interrupt()
    finally:
        first.proc.kill()
    assert second.returncode == 1 and second.stdout == ""  # no token, no curl lines for the other demo
    assert second.stderr == (f"reposter demo: cannot listen on 127.0.0.1:{port}: Address already in use "
                             "(another reposter there? stop it or pick another --port)\n")
    assert not (tmp_path / "second.db").exists()
    assert first.proc.returncode == 0 and out.splitlines()[-1] == "demo stopped"
    assert "Traceback" not in out + err, err
