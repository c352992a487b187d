"""Admin pages over HTTP: people, invitations and tokens; only admins reach them."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from app.auth.caller import Role
from app.models import ApiToken, Invite, User
from tests.api.helpers import make_account
from tests.web.conftest import csrf_of


async def test_only_admins_reach_the_admin_pages(web, client, admin):
    account = await make_account(client, admin)
    organizer = await web(Role.organizer, [account["id"]])
    for url in ("/admin/people", "/tokens", "/admin/people/1"):
        assert (await organizer.get(url)).status_code == 403
    for url, data in (("/admin/invites", {"role": "admin"}), ("/tokens", {"name": "x", "role": "admin"}),
                      ("/tokens/1/revoke", {}), ("/admin/people/1", {"role": "admin"})):
        assert (await organizer.post(url, data)).status_code == 403


async def test_an_invitation_link_is_shown_once_and_makes_a_moderator(web, client, admin, runtime):
    account = await make_account(client, admin)
    boss = await web(Role.admin, name="boss")
    made = await boss.post("/admin/invites", {"role": "moderator", "account_ids": str(account["id"]),
                                              "note": "for Dee"})
    assert made.status_code == 200
    link = re.search(r'value="(http://test/invite/[^"]+)"', made.text).group(1)
    assert "for Dee" in made.text
    async with runtime.sessions() as session:
        stored = await session.scalar(select(Invite))
        assert stored.key_hash not in link and link.rsplit("/", 1)[1] not in str(stored.key_hash)
    async with httpx.AsyncClient(transport=boss.http._transport, base_url="http://test") as dee:
        shown = await dee.get(link.removeprefix("http://test"))
        joined = await dee.post(link.removeprefix("http://test"), data={
            "csrf": csrf_of(shown.text), "name": "Dee", "password": "a long password", "password_again":
            "a long password"})
        assert joined.status_code == 303
        assert (await dee.get("/tokens")).status_code == 403  # a moderator
        assert (await dee.get(f"/api/v1/accounts/{account['id']}")).status_code == 401  # pages, not the API
    async with runtime.sessions() as session:
        dee_row = await session.scalar(select(User).where(User.name == "Dee"))
        assert dee_row.role == "moderator" and dee_row.account_ids == [account["id"]]
    listed = await boss.get("/admin/people")
    assert "Dee" in listed.text and "used" in listed.text


async def test_an_invitation_needs_accounts_for_a_non_admin_and_a_known_role(web):
    boss = await web(Role.admin)
    none = await boss.post("/admin/invites", {"role": "moderator"})
    assert none.status_code == 422 and "needs at least one account" in none.text
    bad = await boss.post("/admin/invites", {"role": "overlord"})
    assert bad.status_code == 422 and "not one of" in bad.text
    wrong_id = await boss.post("/admin/invites", {"role": "moderator", "account_ids": "abc"})
    assert wrong_id.status_code == 422


async def test_a_withdrawn_invitation_no_longer_works(web, runtime):
    boss = await web(Role.admin)
    made = await boss.post("/admin/invites", {"role": "admin"})
    link = re.search(r'value="http://test(/invite/[^"]+)"', made.text).group(1)
    async with runtime.sessions() as session:
        invite_id = (await session.scalar(select(Invite))).id
    assert (await boss.post(f"/admin/invites/{invite_id}/revoke")).status_code == 303
    assert "withdrawn" in (await boss.get(link)).text


async def test_editing_a_person_signs_them_out_and_an_admin_cannot_demote_themselves(web, client, admin, runtime):
    account = await make_account(client, admin)
    boss = await web(Role.admin, name="boss")
    mod = await web(Role.moderator, [account["id"]], name="mo")
    async with runtime.sessions() as session:
        mo_id = (await session.scalar(select(User).where(User.name == "mo"))).id
        boss_id = (await session.scalar(select(User).where(User.name == "boss"))).id
    saved = await boss.post(f"/admin/people/{mo_id}", {"role": "organizer", "account_ids": str(account["id"])})
    assert saved.status_code == 303
    assert (await mod.get("/me")).status_code == 303  # signed out by the change
    demote = await boss.post(f"/admin/people/{boss_id}", {"role": "moderator", "account_ids": str(account["id"])})
    assert demote.status_code == 403
    disable = await boss.post(f"/admin/people/{mo_id}", {"role": "organizer", "account_ids": str(account["id"]),
                                                        "disabled": "on"})
    assert disable.status_code == 303
    async with runtime.sessions() as session:
        assert (await session.get(User, mo_id)).disabled_at is not None
    assert (await boss.get("/admin/people/999999")).status_code == 404
    assert (await boss.get("/admin/people/99999999999")).status_code in (404, 422)


async def test_tokens_made_on_the_page_work_on_the_api_and_are_shown_once(web, client, runtime):
    boss = await web(Role.admin)
    made = await boss.post("/tokens", {"name": "nightly script", "role": "admin"})
    secret = re.search(r'value="(rp_[^"]+)"', made.text).group(1)
    assert (await client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {secret}"})).status_code == 200
    listed = await boss.get("/tokens")
    assert "nightly script" in listed.text and secret not in listed.text
    async with runtime.sessions() as session:
        token_id = (await session.scalar(select(ApiToken).where(ApiToken.name == "nightly script"))).id
    assert (await boss.post(f"/tokens/{token_id}/revoke")).status_code == 303
    assert (await client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {secret}"})).status_code == 401
    empty = await boss.post("/tokens", {"name": "", "role": "admin"})
    assert empty.status_code == 422 and "name" in empty.text
