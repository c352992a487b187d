"""Small helpers the API tests share."""

from app.platforms.mock.world import get_world

API = "/api/v1"


async def make_account(client, headers, handle: str = "coffeeclub", **extra) -> dict:
    """A mock account. "Stop" by mention (on by default) is left off unless `stop_words` is given: with
    it every account polls one more source (its mentions), which tests about feeds would count; pass
    `stop_words=None` for the server's default."""
    extra.setdefault("stop_words", {"enabled": False})
    if extra["stop_words"] is None:
        del extra["stop_words"]
    body = {"platform": "mock", "handle": handle, "credentials": {"token": f"tok-{handle}"}, **extra}
    response = await client.post(f"{API}/accounts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_rule(client, headers, account_id: int, query: str, **extra) -> dict:
    body = {"name": extra.pop("name", query or "everything"), "query": query, **extra}
    response = await client.post(f"{API}/accounts/{account_id}/rules", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def ingest(client, headers, posts) -> dict:
    body = {"platform": "mock", "posts": [p.model_dump(mode="json") for p in posts]}
    response = await client.post(f"{API}/ingest", json=body, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def actions(client, headers, account_id: int, **params) -> list[dict]:
    response = await client.get(f"{API}/accounts/{account_id}/actions", params={"limit": 500, **params},
                                headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def by_post(items: list[dict]) -> dict[str, dict]:
    return {a["post_id"]: a for a in items}


def world():
    return get_world("default")


async def make_limited_account(client, headers, limits: dict) -> dict:
    """An account with these limits and one `#coffee` rule."""
    account = await make_account(client, headers)
    response = await client.patch(f"{API}/accounts/{account['id']}", json={"limits": limits}, headers=headers)
    assert response.status_code == 200, response.text
    await make_rule(client, headers, account["id"], "#coffee")
    return account


def count_calls(monkeypatch, owner, name: str) -> list[int]:
    """Count the calls of the coroutine function `owner.name` (patched for the test); one entry a call."""
    calls: list[int] = []
    real = getattr(owner, name)

    async def counted(*args, **kwargs):
        calls.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls
