"""The audit log shows what an update changed, before and after, and never a credential."""

import pytest

from app.audit import before_after, redacted
from tests.api.helpers import API, make_account, make_rule


async def _last(client, admin, action: str) -> dict:
    events = (await client.get(f"{API}/audit", params={"action": action}, headers=admin)).json()["items"]
    return events[0]


@pytest.fixture
async def account(client, admin):
    return await make_account(client, admin, limits={"max_per_hour": 6, "min_interval_seconds": 300})


async def test_a_rule_update_shows_the_changed_fields_before_and_after(client, admin, account):
    rule = await make_rule(client, admin, account["id"], "#coffee", name="Coffee")
    patch = {"query": "#coffee OR #espresso", "review": True, "name": "Coffee"}  # the name stays as it was
    assert (await client.patch(f"{API}/rules/{rule['id']}", json=patch, headers=admin)).status_code == 200
    event = await _last(client, admin, "rule.update")
    assert event["detail"] == {"before": {"query": "#coffee", "review": False},
                               "after": {"query": "#coffee OR #espresso", "review": True}}
    assert event["target_id"] == str(rule["id"]) and event["account_id"] == account["id"]


async def test_a_filters_put_shows_the_fields_it_changed(client, admin, account):
    url = f"{API}/accounts/{account['id']}/filters"
    await client.put(url, json={"languages": ["en"], "banned_words": ["giveaway"]}, headers=admin)
    first = await _last(client, admin, "filters.update")
    assert first["detail"] == {"before": {"languages": [], "banned_words": []},
                               "after": {"languages": ["en"], "banned_words": ["giveaway"]}}
    await client.put(url, json={"languages": ["en", "it"], "banned_words": ["giveaway"], "min_followers": 50},
                     headers=admin)
    second = await _last(client, admin, "filters.update")
    assert second["detail"] == {"before": {"languages": ["en"], "min_followers": None},
                                "after": {"languages": ["en", "it"], "min_followers": 50}}


async def test_an_account_update_shows_limits_config_and_sources_and_never_credentials(client, admin, account):
    limits = {**account["limits"], "max_per_hour": 10}
    body = {"limits": limits, "sources": ["tag:coffee"], "config": {"page_size": 20, "api_token": "s3cret"},
            "credentials": {"token": "tok-coffeeclub"}}
    response = await client.patch(f"{API}/accounts/{account['id']}", json=body, headers=admin)
    assert response.status_code == 200, response.text
    event = await _last(client, admin, "account.update")
    assert event["detail"] == {
        "before": {"limits": {"max_per_hour": 6}, "sources": [], "config": {"page_size": None, "api_token": None}},
        "after": {"limits": {"max_per_hour": 10}, "sources": ["tag:coffee"],
                  "config": {"page_size": 20, "api_token": "[redacted]"}},
        "credentials": "replaced"}
    assert "tok-coffeeclub" not in str(event) and "s3cret" not in str(event)


def test_before_after_leaves_out_what_did_not_change_and_redacts_secrets_at_any_depth():
    assert before_after({"a": 1, "b": [1]}, {"a": 1, "b": [1, 2]}) == {"before": {"b": [1]}, "after": {"b": [1, 2]}}
    assert before_after({"a": 1}, {"a": 1}) == {"before": {}, "after": {}}
    nested = {"x": {"client_secret": "no", "list": [{"password": "no", "ok": 1}]}, "api_key": "no", "monkey": 1}
    assert redacted(nested) == {"x": {"client_secret": "[redacted]", "list": [{"password": "[redacted]", "ok": 1}]},
                                "api_key": "[redacted]", "monkey": 1}
    assert redacted({"token": None}) == {"token": None}  # none is no secret
