"""Dashboard fixtures: people and their signed-in HTTP clients; a live server and Debian's Chromium
driven by Playwright, with an axe-core check and screenshots of each page looked at."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.auth.caller import Role
from app.db.session import transaction
from app.main import create_app
from app.runtime import Runtime
from app.users.service import create as create_user
from tests.ci import unavailable

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("REPOSTER_CHROMIUM", "/usr/bin/chromium")
# Where screenshots go: REPOSTER_SCREENSHOTS=dir keeps them (docs/screenshots holds the chosen ones)
SHOTS = os.environ.get("REPOSTER_SCREENSHOTS")
WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


async def make_user(runtime: Runtime, *, name: str = "ana", role: Role = Role.admin,
                    account_ids: list[int] | None = None, password: str = PASSWORD) -> int:
    """A person, made as `reposter user create` makes one; returns their id."""
    async with transaction(runtime.sessions) as session:
        user = await create_user(session, name=name, password=password, role=role, account_ids=account_ids or [],
                                 caller=None)
        return user.id


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (hidden field or meta tag)."""
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@dataclass
class WebClient:
    """An HTTP client signed in to the dashboard as one person, with their CSRF token."""

    http: httpx.AsyncClient
    csrf: str = ""
    extra: dict = field(default_factory=dict)

    async def post(self, url: str, data: dict | None = None, **kwargs) -> httpx.Response:
        """A form post with the session's CSRF token."""
        return await self.http.post(url, data={"csrf": self.csrf, **(data or {})}, **kwargs)

    async def get(self, url: str, **kwargs) -> httpx.Response:
        return await self.http.get(url, **kwargs)


async def sign_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the form, as a browser does (the page's token, then the post)."""
    shown = await http.get("/signin")
    return await http.post("/signin", data={"csrf": csrf_of(shown.text), "name": name, "password": password,
                                            "next": "/"})


@pytest.fixture
async def web(runtime) -> AsyncIterator:
    """A factory: `await web(role, account_ids)` makes a person and a client signed in as them."""
    app = create_app(runtime=runtime)
    clients: list[httpx.AsyncClient] = []
    count = 0

    async def signed_in(role: Role = Role.admin, account_ids: list[int] | None = None,
                        name: str | None = None) -> WebClient:
        nonlocal count
        count += 1
        name = name or f"{role}{count}"
        await make_user(runtime, name=name, role=role, account_ids=account_ids)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append(http)
        answer = await sign_in(http, name)
        assert answer.status_code == 303, answer.text
        home = await http.get("/")
        return WebClient(http, csrf_of(home.text))

    yield signed_in
    for http in clients:
        await http.aclose()


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def browser():
    """Debian's Chromium under Playwright, one for the whole run."""
    from playwright.async_api import async_playwright

    if not await asyncio.to_thread(os.path.exists, CHROMIUM):
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set REPOSTER_CHROMIUM)")
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own
        pass


@pytest.fixture
async def live(runtime) -> AsyncIterator[str]:
    """The app served on a free local port, in this event loop; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(create_app(runtime=runtime), log_level="warning", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 uvicorn's Server sets a flag, it has no event to wait on
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()


# The elements that stick out of the screen, outermost first (for the message of a failed check).
WIDE = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 &&
    !(e.parentElement && e.parentElement.closest('.table-wrap')))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
  ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


@dataclass
class Tab:
    """A browser page with what went wrong in it: console errors and uncaught exceptions."""

    page: object
    problems: list[str]
    base: str


@pytest.fixture
async def tab(browser, live) -> AsyncIterator[Tab]:
    """A fresh browser context on the live server; fails the test on any console error."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    yield Tab(page, problems, live)
    await context.close()
    assert not problems, problems


async def browser_sign_in(tab: Tab, name: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person types it."""
    page = tab.page
    await page.goto("/signin")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"^(?!.*/signin).*$"))


async def looked_at(tab: Tab, name: str) -> None:
    """The page as people meet it: no serious or critical axe-core violation, no console error,
    and a screenshot at desktop and phone widths (kept under REPOSTER_SCREENSHOTS when set)."""
    from axe_playwright_python.async_playwright import Axe

    page = tab.page
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad)
    assert not tab.problems, tab.problems
    shots = Path(SHOTS or Path(tempfile.gettempdir()) / "reposter-screenshots")
    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
    for label, (width, height) in WIDTHS.items():
        await page.set_viewport_size({"width": width, "height": height})
        # nothing wider than a phone's screen: wide tables scroll inside their own box
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} at {label} width is {overflow}px wider than the screen: " + str(
            await page.evaluate(WIDE))
        await page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
