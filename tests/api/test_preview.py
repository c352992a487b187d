"""Preview on posts the account has already acted on: it says so, and never compares a post with itself."""

from tests.api.helpers import API, actions, ingest, make_account, make_rule, world


async def _preview(client, admin, account_id: int, **body) -> dict:
    response = await client.post(f"{API}/accounts/{account_id}/preview", json=body, headers=admin)
    assert response.status_code == 200, response.text
    return {i["post"]["id"]: i for i in response.json()["items"]}


async def test_a_post_already_reposted_shows_its_action(client, admin, pipeline):
    w = world()
    w.add_author("fan", followers_count=500)
    account = await make_account(client, admin, handle="cafe_preview")
    await client.put(f"{API}/accounts/{account['id']}/filters", json={"duplicate_window_minutes": 60}, headers=admin)
    rule = await make_rule(client, admin, account["id"], "#coffee")
    reposted = w.publish("fan", "Fresh beans today #coffee")
    await ingest(client, admin, [reposted])
    await pipeline.tick(poll=False)
    [done] = await actions(client, admin, account["id"], status="done")
    fresh = w.publish("fan", "A new roast is in #coffee")
    await ingest(client, admin, [fresh])

    for body in ({"query": "#coffee"}, {"rule_id": rule["id"]}):
        items = await _preview(client, admin, account["id"], **body)
        item = items[reposted.id]
        assert item["would"] == "already acted" and item["matched"] is True
        assert item["action"] == {"id": done["id"], "kind": "repost", "status": "done"}
        assert item["reason"] == f"already reposted: action {done['id']} is done"
        assert items[fresh.id]["would"] == "queued" and items[fresh.id]["action"] is None


async def test_a_post_acted_on_in_another_way_is_not_a_duplicate_of_itself(client, admin, pipeline):
    w = world()
    w.add_author("fan", followers_count=500)
    account = await make_account(client, admin, handle="cafe_likes")
    await client.put(f"{API}/accounts/{account['id']}/filters", json={"duplicate_window_minutes": 60}, headers=admin)
    await make_rule(client, admin, account["id"], "#coffee", action="like")
    liked = w.publish("fan", "Latte art at home #coffee")
    await ingest(client, admin, [liked])
    await pipeline.tick(poll=False)
    assert [a["kind"] for a in await actions(client, admin, account["id"], status="done")] == ["like"]

    item = (await _preview(client, admin, account["id"], query="#coffee"))[liked.id]
    assert item["would"] == "queued" and item["action"] is None, item
    # another post with the same text still is a duplicate
    twin = w.publish("fan", "Latte art at home #coffee")
    items = await _preview(client, admin, account["id"], query="#coffee", posts=[twin.model_dump(mode="json")])
    item = items[twin.id]
    assert item["would"] == "skipped" and "duplicate text" in item["reason"]
