"""The README's API walk-through, run as a reader pastes it: into bash beside a running `reposter demo`,
with the API address and admin token the demo printed. A step that fails fails this test."""

import re
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.ci import unavailable
from tests.test_demo import Demo

README = Path(__file__).resolve().parents[1] / "README.md"
# the walk-through is every ```bash block marked so in the README, run in order as one script
WALKTHROUGH = re.compile(r"^<!-- walkthrough -->\n```bash\n(.*?)^```", re.S | re.M)


def walkthrough(api: str, token: str) -> str:
    """The marked blocks of the README, with the two values a reader pastes from the demo's output."""
    script = "".join(WALKTHROUGH.findall(README.read_text()))
    # the README must set both itself (a reader's terminal has neither); only their values change here
    script, apis = re.subn(r"^API=\S+", f"API={api}", script, count=1, flags=re.M)
    script, tokens = re.subn(r"^TOKEN=\S+", f"TOKEN={token}", script, count=1, flags=re.M)
    assert (apis, tokens) == (1, 1), "the walk-through must set API= and TOKEN= at the start of a line"
    return script


def test_the_walkthrough_has_the_steps_people_look_for():
    script = walkthrough("http://x/api/v1", "t")
    for step in ("/accounts -d", "/rules", "/preview", "/filters", "/blocks", "/approve", "/reject", "/undo",
                 "/tokens", "/audit", "/health"):
        assert step in script, step
    assert not re.search(r"/(accounts|rules|actions)/\d", script), "ids come from the answers, not the reader"


def test_the_readme_walkthrough_runs_beside_the_demo(tmp_path):
    if shutil.which("curl") is None:
        unavailable("curl, which the README's walk-through uses")
    demo = Demo(tmp_path, "--port", "0", "--post-every", "0.3")
    try:
        api = demo.until("  API ").split()[1]
        token = demo.until("  admin token ").split()[2]
        _until_the_demo_has_reviews_and_reposts(demo)
        before = _demo_account(api, token)
        # -u: an unset variable is a mistake in the README; -x: the trace names the step that failed
        run = subprocess.run(["bash", "-eux", "-o", "pipefail", "-c", walkthrough(api, token)],
                             capture_output=True, text=True, timeout=180)
        after = _demo_account(api, token)
    finally:
        demo.proc.kill()
        demo.proc.wait(timeout=60)
    assert run.returncode == 0, f"stdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}"
    # the moderator token: another account is a 404, changing a rule a 403
    assert re.search(r"^404\n403$", run.stdout, re.M), run.stdout[-2000:]
    assert before == after  # the demo's @coffeeclub keeps its rules, filters, blocks and limits


def _until_the_demo_has_reviews_and_reposts(demo: Demo) -> None:
    """The review steps approve one post and reject another, the undo step undoes a repost."""
    def lines(status: str) -> int:
        return sum(line.split()[:2] == [status, "action"] for line in demo.seen)

    while lines("REVIEW") < 2 or lines("REPOSTED") < 1:
        demo.until(") by @")


def _demo_account(api: str, token: str) -> dict:
    """What the walk-through must leave as it was on the demo's account, and the global blocks."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api, headers=headers, timeout=30) as http:
        account = http.get("/accounts/1").raise_for_status().json()
        assert account["handle"] == "coffeeclub"
        return {"limits": account["limits"], "sources": account["sources"], "enabled": account["enabled"],
                **{path: http.get(f"/accounts/1/{path}").raise_for_status().json()
                   for path in ("rules", "filters", "blocks", "authors/optout", "authors/consent")},
                "global blocks": http.get("/blocks").raise_for_status().json()}
