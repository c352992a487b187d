"""A local webhook receiver for the alert tests: an httpx MockTransport that keeps every request and
answers with the statuses it is given (then 200), or raises what it is given."""

from __future__ import annotations

import json
from datetime import datetime

import httpx

from app.accounts.conditions import clear_condition, credentials_refused
from app.alerts import watch
from app.db.session import transaction
from app.models import Account
from app.runtime import Runtime
from tests.api.helpers import API


class Receiver:
    def __init__(self, *answers: int | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, text="ok" if answer < 300 else "nope")

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


async def listen(runtime: Runtime, receiver: Receiver) -> None:
    """Every webhook the runtime sends goes to `receiver`."""
    await runtime.http.aclose()
    runtime.http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))


async def subscribe(client, headers, **body) -> dict:
    body = {"name": "ops", "url": "https://hooks.example.org/alerts/abc123", **body}
    response = await client.post(f"{API}/alerts/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def refuse_credentials(runtime: Runtime, account_id: int) -> None:
    async with transaction(runtime.sessions) as session:
        credentials_refused(await session.get_one(Account, account_id), Exception("401 token revoked"))


async def accept_credentials(runtime: Runtime, account_id: int) -> None:
    async with transaction(runtime.sessions) as session:
        clear_condition(await session.get_one(Account, account_id), "credentials")


async def run(runtime: Runtime, now: datetime | None = None) -> int:
    return await watch.run(runtime, now=now)
