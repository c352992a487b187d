"""PDS blocks: every Bluesky author whose repository a PDS hosts (`pds:pds.spam.example`, hosts under
it too), blocked for an account or for all Bluesky accounts, with what an author block does (waiting
posts stopped, undo if asked, audit). Who is on which PDS: app/moderation/author_hosts.py (cached
from the authors' DID documents); an author not looked up yet is not found by the block until they
are (the matcher looks up the authors of new matches, before they are sent)."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.engine.decide import pds_reason
from app.errors import Conflict, Invalid
from app.models import Account, Action, Block, BlockKind
from app.moderation import author_hosts, place_blocks, repository
from app.moderation.schemas import BlockCreate

PLATFORM = "bluesky"  # the one platform whose authors are hosted on a PDS


def on_pds(host: str):
    """Actions whose (amplified) author's cached PDS is `host` or under it."""
    return func.lower(Action.author_id).in_(author_hosts.dids_on(host))


async def add(session: AsyncSession, *, account: Account | None, platform: str | None, data: BlockCreate,
              host: str, caller: Caller) -> dict:
    """Block every author hosted on `host` for one Bluesky account, or (account None) all of them."""
    on = account.platform if account is not None else PLATFORM if platform is None else platform
    if on != PLATFORM:
        raise Invalid(f"a PDS block is for Bluesky: authors on {on[:32]} are not hosted on a PDS",
                      error="invalid block")
    account_id = None if account is None else account.id
    if await repository.find_block(session, account_id, data.author, PLATFORM):
        raise Conflict(f"{data.author} is already blocked")
    block = Block(account_id=account_id, kind=BlockKind.pds, author=data.author, handle=data.author, pending=False,
                  platform=PLATFORM, reason=data.reason, undo_existing=data.undo_existing, created_by=caller.label)
    return await place_blocks.apply(session, block=block, who=on_pds(host), data=data,
                                    reason=pds_reason(host, data.reason), undo_why=f"PDS {host} blocked: {data.reason}",
                                    caller=caller, detail={"kind": BlockKind.pds.value, "pds": host,
                                                           "platform": PLATFORM})
