"""Operator concerns: health, readiness, metrics, several workers on one PostgreSQL."""

import asyncio

from app.runtime import Runtime
from app.scheduler.jobs import Pipeline
from tests.api.helpers import actions, ingest, make_account, make_rule, world


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_metrics_count_actions_by_status_and_skips_by_reason(client, admin, pipeline):
    account = await make_account(client, admin)
    world().add_author("alice", followers_count=5)
    await make_rule(client, admin, account["id"], "#coffee", scope="followers")
    await ingest(client, admin, [world().publish("alice", "hi #coffee")])
    await pipeline.tick(poll=False)
    text = (await client.get("/metrics")).text
    assert 'reposter_actions{kind="repost",platform="mock",status="skipped"} 1.0' in text
    assert 'reposter_skipped{reason="scope"} 1.0' in text
    assert 'reposter_posts_seen{platform="mock"} 1.0' in text and "reposter_send_latency_seconds" in text


async def test_openapi_document_lists_every_path(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/api/v1/accounts", "/api/v1/accounts/{account_id}/rules", "/api/v1/rules/validate",
                 "/api/v1/rules/explain", "/api/v1/accounts/{account_id}/filters",
                 "/api/v1/accounts/{account_id}/blocks", "/api/v1/blocks", "/api/v1/accounts/{account_id}/actions",
                 "/api/v1/actions/{action_id}/undo",
                 "/api/v1/accounts/{account_id}/preview", "/api/v1/ingest", "/api/v1/tokens", "/api/v1/audit",
                 "/healthz", "/readyz", "/metrics"):
        assert path in paths, path


async def test_several_workers_share_the_work_without_double_reposts(client, admin, runtime, db_url):
    account = await make_account(client, admin)
    await make_rule(client, admin, account["id"], "#coffee")
    posts = [world().publish(f"user{i % 7}", f"cup number {i} #coffee") for i in range(60)]
    await ingest(client, admin, posts)
    runtimes = [Runtime.build(runtime.settings) for _ in range(3)]
    try:
        workers = [Pipeline(rt) for rt in runtimes]
        for _ in range(3):
            if db_url.startswith("postgresql"):  # really concurrent: leases and SKIP LOCKED share the work
                await asyncio.gather(*(w.tick() for w in workers))
            else:  # SQLite runs one worker at a time by design; later workers must find nothing left to do
                for w in workers:
                    await w.tick()
    finally:
        for rt in runtimes:
            await rt.close()
    done = await actions(client, admin, account["id"], status="done")
    assert len(done) == 60 and len({a["post_id"] for a in done}) == 60
    assert sum(1 for key in world().reposts if key[0] == "coffeeclub") == 60
