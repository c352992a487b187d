"""Blocking a PDS from the dashboard's instance/domain form (Bluesky accounts), in two steps."""

from __future__ import annotations

from app.auth.caller import Role
from tests.api.helpers import API, make_account
from tests.api.test_real_platforms import _connect, _harness


async def test_a_pds_is_blocked_from_the_domain_form_on_a_bluesky_account(client, admin, runtime, monkeypatch, web):
    sky = await _connect(client, admin, _harness("bluesky", runtime, monkeypatch))
    mock = await make_account(client, admin, "other")
    moderator = await web(Role.moderator, [sky["id"], mock["id"]])
    people = f"/accounts/{sky['id']}/people"
    assert "pds:pds.spam.example" in (await moderator.get(people)).text  # the form says it may be typed

    seen = await moderator.post(f"{people}/check-domain", {"domain": " pds:PDS.Spam.Example ", "why": "spam PDS"})
    assert seen.status_code == 200, seen.text
    assert "Block every author hosted on pds.spam.example" in seen.text
    assert 'name="author" value="pds:pds.spam.example"' in seen.text
    for bad, says in (("pds:-bad-", "is not a domain"), ("pds:", "missing")):
        refused = await moderator.post(f"{people}/check-domain", {"domain": bad})
        assert refused.status_code == 422 and says in refused.text, (bad, refused.text[:300])
    elsewhere = await moderator.post(f"/accounts/{mock['id']}/people/check-domain", {"domain": "pds:pds.spam.example"})
    assert elsewhere.status_code == 422 and "for Bluesky" in elsewhere.text

    done = await moderator.post(f"{people}/add", {"kind": "block", "author": "pds:pds.spam.example",
                                                  "reason": "spam PDS"})
    assert done.status_code == 303 and done.headers["location"] == people
    shown = await moderator.get(people)
    assert "pds:pds.spam.example is blocked." in shown.text and "every author hosted on the PDS" in shown.text
    [block] = (await client.get(f"{API}/accounts/{sky['id']}/blocks", headers=admin)).json()["items"]
    assert (block["kind"], block["pds"], block["reason"]) == ("pds", "pds.spam.example", "spam PDS")
