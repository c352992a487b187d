"""Signing in and out over HTTP: sessions in cookies, CSRF on every form, throttled failures,
invitations, and pages that need a person."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from app.auth.caller import Role
from app.main import create_app
from app.models import User, WebSession
from app.users import service
from app.users.service import THROTTLE_AFTER
from tests.web.conftest import PASSWORD, csrf_of, make_user, sign_in


@pytest.fixture
async def http(runtime):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=runtime)),
                                 base_url="http://test") as client:
        yield client


async def test_a_page_without_a_session_redirects_to_sign_in_and_back(http, runtime):
    await make_user(runtime, name="Ana")
    answer = await http.get("/me?x=1")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=/me%3Fx%3D1"
    shown = await http.get("/signin?next=/me")
    signed = await http.post("/signin", data={"csrf": csrf_of(shown.text), "name": " ana ", "password": PASSWORD,
                                              "next": "/me"})
    assert signed.status_code == 303 and signed.headers["location"] == "/me"
    cookie = signed.headers["set-cookie"]
    assert "reposter_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; behind https it is (test below)
    me = await http.get("/me")
    assert me.status_code == 200 and "Ana" in me.text


async def test_the_session_cookie_is_secure_behind_https(runtime):
    await make_user(runtime, name="ana")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime=runtime)),
                                 base_url="https://test") as client:
        answer = await sign_in(client, "ana")
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


async def test_only_a_path_of_this_site_is_followed_after_sign_in(http, runtime):
    await make_user(runtime, name="ana")
    shown = await http.get("/signin")
    for target in ("//evil.example/x", "https://evil.example", "/\\evil"):
        answer = await http.post("/signin", data={"csrf": csrf_of(shown.text), "name": "ana", "password": PASSWORD,
                                                  "next": target})
        assert answer.headers["location"] == "/"


async def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_name(http, runtime):
    await make_user(runtime, name="ana")
    shown = await http.get("/signin")
    token = csrf_of(shown.text)
    for _ in range(THROTTLE_AFTER):
        answer = await http.post("/signin", data={"csrf": token, "name": "ana", "password": "wrong password"})
        assert answer.status_code == 401 and "wrong name or password" in answer.text
    locked = await http.post("/signin", data={"csrf": token, "name": "ana", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "too many failed sign-ins" in locked.text
    async with runtime.sessions() as session:
        user = await session.scalar(select(User))
        assert user.failed_sign_ins == THROTTLE_AFTER and user.locked_until is not None
    unknown = await http.post("/signin", data={"csrf": token, "name": "nobody", "password": "x" * 12})
    assert unknown.status_code == 401 and "wrong name or password" in unknown.text  # same words: no probing


async def test_forms_without_the_csrf_token_change_nothing(http, runtime, web):
    await make_user(runtime, name="ana")
    refused = await http.post("/signin", data={"name": "ana", "password": PASSWORD})
    assert refused.status_code == 403 and "CSRF" in refused.text
    person = await web(Role.admin)
    before = await person.get("/me")
    out = await person.http.post("/signout", data={"csrf": "forged"})
    assert out.status_code == 403
    assert (await person.get("/me")).status_code == 200 and before.status_code == 200
    wrong = await person.http.post("/me/password", data={"current_password": PASSWORD, "new_password": "x" * 12,
                                                          "new_password_again": "x" * 12})
    assert wrong.status_code == 403


async def test_sign_out_ends_the_session(web, runtime):
    person = await web(Role.admin)
    out = await person.post("/signout")
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert (await person.get("/")).status_code == 303
    async with runtime.sessions() as session:
        assert (await session.scalars(select(WebSession))).all() == []


async def test_changing_the_password(web):
    person = await web(Role.admin, name="bo")
    short = await person.post("/me/password", {"current_password": PASSWORD, "new_password": "short",
                                               "new_password_again": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    wrong = await person.post("/me/password", {"current_password": "nope nope nope", "new_password": "x" * 12,
                                               "new_password_again": "x" * 12})
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    done = await person.post("/me/password", {"current_password": PASSWORD, "new_password": "a new secret phrase",
                                              "new_password_again": "a new secret phrase"})
    assert done.status_code == 303
    fresh = httpx.AsyncClient(transport=person.http._transport, base_url="http://test")
    assert (await sign_in(fresh, "bo", "a new secret phrase")).status_code == 303
    await fresh.aclose()


async def test_an_invitation_is_used_once(http, runtime):
    admin = service.caller_of(User(id=1, name="root", role="admin", account_ids=[]))
    async with runtime.sessions() as session:
        _, key = await service.invite(session, role=Role.admin, account_ids=[], note="", caller=admin)
        await session.commit()
    shown = await http.get(f"/invite/{key}")
    assert shown.status_code == 200 and "invited as" in shown.text
    token = csrf_of(shown.text)
    mismatch = await http.post(f"/invite/{key}", data={"csrf": token, "name": "Cy", "password": "a long password",
                                                       "password_again": "another one!"})
    assert mismatch.status_code == 422 and "differ" in mismatch.text
    joined = await http.post(f"/invite/{key}", data={"csrf": token, "name": "Cy", "password": "a long password",
                                                     "password_again": "a long password"})
    assert joined.status_code == 303
    assert "Cy" in (await http.get("/me")).text
    again = await http.get(f"/invite/{key}")
    assert again.status_code == 404 and "used already" in again.text
    assert (await http.get("/invite/unknown")).status_code == 404


async def test_bad_input_in_a_form_is_a_clear_422(http, runtime):
    await make_user(runtime, name="ana")
    shown = await http.get("/signin")
    answer = await http.post("/signin", data={"csrf": csrf_of(shown.text), "name": "a\x00b", "password": "x"})
    assert answer.status_code == 422 and "NUL" in answer.text


async def test_dashboard_errors_are_pages_and_api_errors_stay_json(web, client):
    person = await web(Role.admin)
    page = await person.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = await client.get("/api/v1/no/such/thing")
    assert api.status_code == 404 and api.json()["error"] == "not found"


async def test_a_part_of_a_page_refreshed_after_the_session_ended_leads_back_to_the_page(http):
    """The activity log refreshes its rows by htmx; signed out meanwhile, the sign-in returns to the page."""
    page = "http://test/accounts/1/activity?status=done"
    answer = await http.get("/accounts/1/activity/rows?seen=3", headers={"HX-Request": "true", "HX-Current-URL": page})
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"] == "/signin?next=/accounts/1/activity%3Fstatus%3Ddone"


async def test_pages_are_not_kept_in_a_cache(web):
    person = await web(Role.admin)
    for url in ("/", "/me", "/no/such/page"):
        assert (await person.get(url)).headers["Cache-Control"] == "no-store"
