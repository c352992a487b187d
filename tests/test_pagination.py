"""paginate(): the one count-then-page of every list endpoint, on both databases."""

from sqlalchemy import select

from app.db.session import transaction
from app.models import AuditEvent
from app.pagination import PageParams, paginate


async def _events(runtime, actions: list[str]) -> None:
    async with transaction(runtime.sessions) as session:
        session.add_all(AuditEvent(actor="t", action=a, target_type="x", target_id=str(i), detail={})
                        for i, a in enumerate(actions))


async def _page(runtime, query, limit: int, offset: int):
    async with transaction(runtime.sessions) as session:
        return await paginate(session, query, page=PageParams(limit=limit, offset=offset), into=lambda e: e.target_id)


async def test_a_page_is_cut_in_the_query_order_and_counts_every_row(runtime):
    await _events(runtime, ["a"] * 5)
    newest_first = select(AuditEvent).order_by(AuditEvent.id.desc())
    page = await _page(runtime, newest_first, limit=2, offset=1)
    assert (page.items, page.total, page.limit, page.offset) == (["3", "2"], 5, 2, 1)


async def test_the_total_counts_only_what_the_query_selects(runtime):
    await _events(runtime, ["a", "b", "a", "b", "a"])
    only_a = select(AuditEvent).where(AuditEvent.action == "a").order_by(AuditEvent.id)
    page = await _page(runtime, only_a, limit=10, offset=0)
    assert (page.items, page.total) == (["0", "2", "4"], 3)


async def test_a_page_past_the_end_is_empty_but_keeps_the_total(runtime):
    await _events(runtime, ["a"] * 3)
    page = await _page(runtime, select(AuditEvent).order_by(AuditEvent.id), limit=5, offset=3)
    assert (page.items, page.total) == ([], 3)


async def test_an_empty_table_is_an_empty_page(runtime):
    page = await _page(runtime, select(AuditEvent).order_by(AuditEvent.id), limit=5, offset=0)
    assert (page.items, page.total) == ([], 0)
