"""Domain blocks: every author of an instance or handle domain (and its subdomains), blocked for an
account or for all, with what an author block does (waiting posts stopped, undo if asked, audit).
How a domain is read and whose domain an author is: app/moderation/domains.py, app/platforms/handles.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.actions import states
from app.auth.caller import Caller
from app.engine.decide import domain_reason
from app.errors import Conflict, Invalid
from app.models import Account, ActionStatus, Block, BlockKind
from app.moderation import place_blocks, repository
from app.moderation.domains import (
    block_key,
    clean_domain,
    domain_of_pattern,
    is_pattern,
    is_pds,
    pds_key,
    pds_of_typed,
    shown,
)
from app.moderation.identity import home_domain
from app.moderation.pds_blocks import PLATFORM, on_pds
from app.moderation.schemas import BlockCreate
from app.platforms.registry import get_platform


async def in_domain(session: AsyncSession, account: Account | None, platform: str | None, domain: str):
    """The actions whose author is in `domain` (on the account, or on every account of `platform`)."""
    accounts = [account] if account is not None else await repository.accounts_on(session, platform)
    homes = {a.id: home_domain(a) or "" for a in accounts}
    local = [aid for aid, home in homes.items() if home == domain or home.endswith(f".{domain}")]
    return repository.in_domain(domain, local)


async def add(session: AsyncSession, *, account: Account | None, platform: str | None, data: BlockCreate,
              domain: str, caller: Caller) -> dict:
    """Block every author of a domain (and its subdomains) for one account, or all (account None) on
    `platform` (every platform for None)."""
    account_id = None if account is None else account.id
    if platform is not None and not get_platform(platform).handles_have_domains:
        raise Invalid(f"authors on {platform} are not in domains: block them one by one", error="invalid block")
    if await repository.find_block(session, account_id, data.author, platform):
        raise Conflict(f"{shown(domain, platform)} is already blocked")
    block = Block(account_id=account_id, kind=BlockKind.domain, author=data.author, handle=shown(domain, platform),
                  pending=False, platform=platform, reason=data.reason, undo_existing=data.undo_existing,
                  created_by=caller.label)
    return await place_blocks.apply(session, block=block, who=await in_domain(session, account, platform, domain),
                                    data=data, reason=domain_reason(domain, data.reason),
                                    undo_why=f"domain {domain} blocked: {data.reason}", caller=caller,
                                    detail={"kind": BlockKind.domain.value, "domain": domain, "platform": platform})


@dataclass(frozen=True)
class DomainPreview:
    """What blocking a domain would do on an account; nothing is changed yet."""

    domain: str
    shown: str  # as the platform's people write it: `*@domain` or `*.domain`
    live: int
    waiting: int
    already: bool
    pds: bool = False  # a PDS block (`pds:host`, Bluesky): `domain` is the PDS's host


async def _preview_pds(session: AsyncSession, account: Account, typed: str) -> DomainPreview:
    """`pds:host` on a Bluesky account: what blocking every author hosted there would do (as far as
    their PDS is known already)."""
    try:
        host = pds_of_typed(typed)
    except ValueError as exc:
        raise Invalid(f"domain: {exc}", error="invalid domain") from exc
    if account.platform != PLATFORM:
        raise Invalid(f"a PDS block is for Bluesky: authors on {account.platform} are not hosted on a PDS",
                      error="invalid block")
    who = on_pds(host)

    async def count(statuses: Sequence[str], live: bool = False) -> int:
        return await repository.count_by_author(session, account_id=account.id, author="", pending=False,
                                                statuses=statuses, live=live, who=who)

    key = pds_key(host)
    already = bool(await repository.find_block(session, account.id, key)
                   or await repository.find_block(session, None, key, account.platform))
    return DomainPreview(host, key, await count([ActionStatus.done], live=True), await count(sorted(states.WAITING)),
                         already, pds=True)


async def preview(session: AsyncSession, *, account: Account, typed: str) -> DomainPreview:
    """Read `typed` (`spam.example`, `*@spam.example`, `*.spam.example`; `pds:host` on Bluesky) and count
    what a block of it would do."""
    if is_pds(typed):
        return await _preview_pds(session, account, typed)
    try:
        domain = domain_of_pattern(typed) if is_pattern(typed) else clean_domain(typed)
    except ValueError as exc:
        raise Invalid(f"domain: {exc}", error="invalid domain") from exc
    if not get_platform(account.platform).handles_have_domains:
        raise Invalid(f"authors on {account.platform} are not in domains: block them one by one", error="invalid block")
    who = await in_domain(session, account, account.platform, domain)

    async def count(statuses: Sequence[str], live: bool = False) -> int:
        return await repository.count_by_author(session, account_id=account.id, author="", pending=False,
                                                statuses=statuses, live=live, who=who)

    key = block_key(domain)
    already = bool(await repository.find_block(session, account.id, key)
                   or await repository.find_block(session, None, key, account.platform))
    return DomainPreview(domain, shown(domain, account.platform), await count([ActionStatus.done], live=True),
                         await count(sorted(states.WAITING)), already)


