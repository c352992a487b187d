"""The rules' change mark (migration 0019): the database moves it on every write to `rules`, and the
matcher reads the whole table's fingerprint only when it moved."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import delete, text, update

from app.db.marks import change_mark
from app.db.session import transaction
from app.models import Account, Rule
from app.pipeline.matcher import CompiledRules
from app.platforms.base import Author, Post
from app.query import prepare
from app.rules import repository as rules_repo
from tests.api.helpers import count_calls


async def _mark(runtime) -> int | None:
    async with runtime.sessions() as session:
        return await change_mark(session, "rules")


async def _account(runtime) -> int:
    async with transaction(runtime.sessions) as session:
        account = Account(platform="mock", handle="bot", credentials_encrypted="x", config={}, sources=[])
        session.add(account)
        await session.flush()
        return account.id


def _rule(account_id: int, name: str, query: str) -> Rule:
    return Rule(account_id=account_id, name=name, query=query, normalized=query)


async def test_every_kind_of_write_to_rules_moves_the_mark(runtime):
    account_id = await _account(runtime)
    marks = [await _mark(runtime)]
    async with transaction(runtime.sessions) as session:
        session.add_all([_rule(account_id, "a", "#a"), _rule(account_id, "b", "#b")])
    marks.append(await _mark(runtime))
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Rule).where(Rule.name == "a").values(query="#aa"))
    marks.append(await _mark(runtime))
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(Rule).where(Rule.name == "a"))
    marks.append(await _mark(runtime))
    async with transaction(runtime.sessions) as session:  # the account's deletion cascades to its rules
        if session.get_bind().dialect.name == "sqlite":
            await session.execute(text("PRAGMA foreign_keys = ON"))
        await session.execute(delete(Account).where(Account.id == account_id))
    marks.append(await _mark(runtime))
    assert None not in marks
    assert all(later > earlier for earlier, later in itertools.pairwise(marks)), marks
    async with transaction(runtime.sessions) as session:  # a read does not move it
        await session.scalar(text("SELECT count(*) FROM rules"))
    assert await _mark(runtime) == marks[-1]


async def test_the_matcher_reads_the_fingerprint_only_when_the_mark_moved(runtime, monkeypatch):
    account_id = await _account(runtime)
    async with transaction(runtime.sessions) as session:
        session.add(_rule(account_id, "a", "#a"))
    compiled = CompiledRules()
    reads = count_calls(monkeypatch, rules_repo, "signature")
    async with transaction(runtime.sessions) as session:
        await compiled.sync(session)
        await compiled.sync(session)
        await compiled.sync(session)
    assert len(reads) == 1 and set(compiled.rules) == set(compiled.known) and len(compiled.rules) == 1
    async with transaction(runtime.sessions) as session:
        session.add(_rule(account_id, "b", "#b"))
    async with transaction(runtime.sessions) as session:
        await compiled.sync(session)
    assert len(reads) == 2 and {r.account_id for r in compiled.rules.values()} == {account_id}
    assert len(compiled.rules) == 2
    assert _matched(compiled, "#a") == {"a"}
    # a write the fingerprint cannot see (same count, same ids, an updated_at older than the newest
    # seen: a transaction that stamped the row early and committed late) is seen through the mark
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Rule).where(Rule.name == "a").values(
            query="#moved", normalized="#moved", updated_at=compiled.latest - timedelta(seconds=30)))
    async with transaction(runtime.sessions) as session:
        await compiled.sync(session)
    assert _matched(compiled, "#moved") == {"a"} and _matched(compiled, "#a") == set()


def _matched(compiled: CompiledRules, text_: str) -> set[str]:
    post = Post(platform="mock", id="1", author=Author(id="1", handle="ana"), text=text_,
                hashtags=[text_.removeprefix("#")])
    return {compiled.texts[rule_id].name for rule_id in compiled.index.match(prepare(post))}


async def _accounts_mark(runtime) -> int | None:
    async with runtime.sessions() as session:
        return await change_mark(session, "accounts")


async def test_the_accounts_mark_moves_on_what_the_poll_job_reads_and_not_on_a_send(runtime):
    before = await _accounts_mark(runtime)
    account_id = await _account(runtime)
    created = await _accounts_mark(runtime)
    assert created > before
    async with transaction(runtime.sessions) as session:  # a send stamps the account: not a change for polls
        account = await session.get_one(Account, account_id)
        account.last_sent_at = account.updated_at
    assert await _accounts_mark(runtime) == created
    moved = [created]
    for change in ({"sources": ["tag:tea"]}, {"conditions": {"x": {"severity": "attention"}}}, {"enabled": False},
                   {"config": {"instance": "x"}}, {"stop_words_enabled": False}):
        async with transaction(runtime.sessions) as session:
            await session.execute(update(Account).where(Account.id == account_id).values(**change))
        moved.append(await _accounts_mark(runtime))
    async with transaction(runtime.sessions) as session:
        await session.execute(delete(Account).where(Account.id == account_id))
    moved.append(await _accounts_mark(runtime))
    assert all(later > earlier for earlier, later in itertools.pairwise(moved)), moved
