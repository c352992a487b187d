"""The Blocks & people page's block lists over HTTP: follow another account's blocks or a Bluesky
moderation list, see each list's source, size, last read and problem, see who a list blocks, unfollow."""

from __future__ import annotations

import html

from app.auth.caller import Role
from tests.api.helpers import API, make_account, world
from tests.api.test_real_platforms import _connect, _harness
from tests.platforms.harness_bluesky import did_for


async def test_following_another_accounts_blocks_from_the_people_page(client, admin, web):
    world().add_author("bob")
    mine = await make_account(client, admin, handle="coffeeclub")
    source = await make_account(client, admin, handle="teaclub")
    stranger = await make_account(client, admin, handle="juiceclub")
    await client.post(f"{API}/accounts/{source['id']}/blocks", json={"author": "bob", "reason": "troll"}, headers=admin)
    moderator = await web(Role.moderator, [mine["id"], source["id"]])
    people = f"/accounts/{mine['id']}/people"
    shown = await moderator.get(people)
    assert "follows no block list" in shown.text and "teaclub (#" in shown.text and "juiceclub" not in shown.text
    # an account the moderator cannot see is not found; something that is not an id is refused
    assert (await moderator.post(f"{people}/block-lists", {"source_account_id": str(stranger["id"])})).status_code \
        == 404
    assert (await moderator.post(f"{people}/block-lists", {"source_account_id": "two"})).status_code == 422
    followed = await moderator.post(f"{people}/block-lists", {"source_account_id": str(source["id"])})
    assert followed.status_code == 303, followed.text
    page = html.unescape((await moderator.get(people)).text)
    label = f"the blocks of account teaclub (#{source['id']})"
    assert f"Following {label}: 1 blocked." in page
    assert "Blocked by lists" in page and f"from {label}" in page and "bob" in page
    bob = world().authors["bob"].id
    author = html.unescape((await moderator.get(f"/accounts/{mine['id']}/authors/{bob}")).text)
    assert "On block lists" in author and f"from {label}" in author
    [sub] = (await client.get(f"{API}/accounts/{mine['id']}/block-lists", headers=admin)).json()["items"]
    read = await moderator.post(f"{people}/block-lists/{sub['id']}/refresh")
    assert read.status_code == 303 and "0 added, 0 removed" in html.unescape((await moderator.get(people)).text)
    gone = await moderator.post(f"{people}/block-lists/{sub['id']}/remove")
    assert gone.status_code == 303
    assert "follows no block list" in (await moderator.get(people)).text
    assert (await moderator.post(f"{people}/block-lists/{sub['id']}/remove")).status_code == 404


async def test_a_bluesky_curation_list_is_refused_on_the_page_with_the_reason(client, admin, web, runtime,
                                                                              monkeypatch):
    bluesky = _harness("bluesky", runtime, monkeypatch)
    account = await _connect(client, admin, bluesky, allow_without_consent=True)
    bluesky.server.add_profile("mods")
    curated = bluesky.server.add_list("mods", "3kcurate2", "Friends", [did_for("carol")], purpose="curatelist")
    modlist = bluesky.server.add_list("mods", "3kspam222", "Spammers", [did_for("alice")])
    organizer = await web(Role.organizer, [account["id"]])
    people = f"/accounts/{account['id']}/people"
    refused = await organizer.post(f"{people}/block-lists", {"list": curated})
    assert refused.status_code == 422 and "is not a moderation list" in refused.text
    assert html.escape(curated) in refused.text  # what was typed is kept in the form
    assert (await organizer.post(f"{people}/block-lists", {"list": modlist, "undo_existing": "on"})).status_code == 303
    page = html.unescape((await organizer.get(people)).text)
    assert f'block list "Spammers" ({modlist})' in page and "undoes earlier reposts" in page
