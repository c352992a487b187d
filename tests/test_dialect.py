"""The statements whose spelling differs between the engines (app/db/dialect.py), on both engines:
many rows in one INSERT, and a list of values as one parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.db.dialect import among, insert_many
from app.db.session import transaction
from app.models import Account, Action, SeenPost


async def _account_and_posts(runtime, posts: int) -> tuple[int, list[int]]:
    async with transaction(runtime.sessions) as session:
        account = Account(platform="mock", handle="bot", credentials_encrypted="x", config={}, sources=[])
        session.add(account)
        seen = [SeenPost(platform="mock", post_id=str(i), author_id="u1", author_handle="ana", data={})
                for i in range(posts)]
        session.add_all(seen)
        await session.flush()
        return account.id, [s.id for s in seen]


def _row(account_id: int, seen_id: int, post_id: str, **extra) -> dict:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    return {"account_id": account_id, "rule_id": None, "seen_post_id": seen_id, "post_id": post_id,
            "post_url": None, "author_id": "u1", "author_handle": "ana", "kind": "repost", "status": "queued",
            "reason": None, "text": None, "next_attempt_at": now, "created_at": now, "updated_at": now,
            "snapshot": None, **extra}


RETURNING = ["id", "post_id", "status"]
CONFLICT = ["account_id", "post_id", "kind"]


async def test_insert_many_keeps_the_order_given_skips_conflicts_and_fills_defaults(runtime):
    account_id, seen = await _account_and_posts(runtime, 300)
    order = [str(i) for i in reversed(range(300))]  # not the order of any index
    async with transaction(runtime.sessions) as session:
        first = (await insert_many(session, Action.__table__, [_row(account_id, seen[int(p)], p) for p in order],
                                   conflict=CONFLICT, returning=RETURNING, page=100)).all()
    assert [post_id for _id, post_id, _status in first] == order
    assert [row[0] for row in first] == sorted(row[0] for row in first)  # ids follow the order given
    async with transaction(runtime.sessions) as session:
        again = [_row(account_id, seen[5], "5"), _row(account_id, seen[0], "new-0")]
        second = (await insert_many(session, Action.__table__, again, conflict=CONFLICT, returning=RETURNING,
                                    page=100)).all()
        assert [post_id for _id, post_id, _status in second] == ["new-0"]  # "5" was there: nothing inserted
        stored = (await session.scalars(select(Action).where(Action.post_id == "new-0"))).one()
        assert stored.attempts == 0 and stored.undo_attempts == 0  # the columns' defaults, not NULL


async def test_insert_many_writes_every_kind_of_value_as_given(runtime):
    account_id, seen = await _account_and_posts(runtime, 2)
    text = 'quotes " \' and \\ backslashes, ünïcødé, emoji 🦜, a tab\tand a newline\n'
    snapshot = {"text": text, "terms": ["#tag", "a b"], "nested": {"n": 1, "f": 1.5, "none": None, "yes": True}}
    naive = datetime(2026, 11, 30, 9, 30)  # noqa: DTZ001 - naive on purpose: UTC, as UTCDateTime reads it
    async with transaction(runtime.sessions) as session:
        await insert_many(session, Action.__table__, [
            _row(account_id, seen[0], "p0", text=text, reason=text, snapshot=snapshot, next_attempt_at=naive),
            _row(account_id, seen[1], "p1", rule_id=None, snapshot=None, next_attempt_at=None),
        ], conflict=CONFLICT, returning=RETURNING, page=100)
    async with transaction(runtime.sessions) as session:
        first, second = (await session.scalars(select(Action).order_by(Action.id))).all()
    assert first.text == text and first.reason == text and first.snapshot == snapshot
    assert first.next_attempt_at == naive.replace(tzinfo=UTC)
    assert second.snapshot is None and second.next_attempt_at is None and second.rule_id is None


async def test_among_matches_as_in_does_for_numbers_and_text_beyond_the_parameter_limits(runtime):
    account_id, seen = await _account_and_posts(runtime, 50)
    async with transaction(runtime.sessions) as session:
        await insert_many(session, Action.__table__, [_row(account_id, s, f"p{i}") for i, s in enumerate(seen)],
                          conflict=CONFLICT, returning=RETURNING, page=100)
    async with transaction(runtime.sessions) as session:
        ids = list((await session.scalars(select(Action.id).order_by(Action.id))).all())

        async def found(column, values) -> list:
            return sorted((await session.scalars(select(column).where(among(column, values)))).all())

        assert await found(Action.id, ids[:3]) == ids[:3]
        assert await found(Action.id, [ids[7]]) == [ids[7]]  # the same statement again, other values
        assert await found(Action.id, []) == []
        # 40,000 values: past SQLite's 32,766 parameters and PostgreSQL's 65,535 of an IN list
        assert await found(Action.id, list(range(-40_000, 0)) + ids[10:12]) == ids[10:12]
        assert await found(Action.post_id, ["p3", "p4", "nobody", "o'brien"]) == ["p3", "p4"]
