"""Block lists in and out as CSV (app/moderation/blocklist_csv.py reads and writes the files).

An import is all or nothing: a line that cannot be read, or names nobody on the platform, refuses the
whole file (a 422 naming every such line) and nothing is stored. Otherwise each line is added (as
`POST .../blocks` adds it: resolved, waiting posts stopped, undo if asked, audited) or skipped (blocked
already, or repeated in the file), and the answer says which, line by line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.audit import record
from app.auth.caller import Caller
from app.errors import AppError, Conflict, Invalid
from app.models import Account, Block, BlockKind
from app.moderation import repository
from app.moderation.blocklist_csv import CsvTooLarge, Entry, Refusal, decode, parse, write_mastodon, write_ours
from app.moderation.domains import domain_of_key, shown
from app.moderation.identity import INLINE_LOOKUPS, Resolved, clean_name, client_for, home_domain, resolve_one
from app.moderation.schemas import BlockCreate
from app.moderation.service import add_domain_block, add_resolved_block, global_platform
from app.platforms.registry import get_platform


@dataclass(frozen=True)
class LineOutcome:
    line: int
    block: str
    outcome: str  # added | skipped | left out
    detail: str


async def export_csv(session: AsyncSession, *, account: Account | None, fmt: str) -> str:
    """The account's own blocks (global ones for None), oldest first, in our format or Mastodon's
    (which holds domain blocks only)."""
    blocks = await repository.blocks_owned(session, account_id=None if account is None else account.id)
    if fmt == "mastodon":
        return write_mastodon((domain_of_key(b.author) or "", b.reason) for b in blocks if b.kind == BlockKind.domain)
    home = home_domain(account) if account is not None else None
    return write_ours((portable_name(b, home), b.reason) for b in blocks)


def portable_name(block: Block, home: str | None) -> str:
    """A name that finds the same author (or domain) from another account: Mastodon's local
    `alice` as `alice@<instance>`; a domain as `*@domain` or `*.domain`."""
    domain = domain_of_key(block.author) if block.kind == BlockKind.domain else None
    if domain is not None:
        return block.handle or shown(domain, block.platform)
    name = block.handle or block.author
    return f"{name}@{home}" if home and block.handle and "@" not in name else name


async def import_csv(session: AsyncSession, *, runtime, account: Account | None, body: bytes, platform: str | None,
                     undo_existing: bool, caller: Caller) -> dict[str, Any]:
    """Add every block of the file, or none (see the module's docstring); the report per line."""
    try:
        entries, refused, left_out = parse(decode(body))
    except CsvTooLarge as exc:
        raise AppError(f"block list too large: {exc}", status_code=413, error="too large") from exc
    except ValueError as exc:
        raise Invalid(f"block list: {exc}", error="invalid block list") from exc
    if not entries and not refused and not left_out:
        raise Invalid("block list: no line to block", error="invalid block list")
    platform = account.platform if account is not None else await _import_platform(session, platform, entries)
    who, nobody = await _resolve(session, runtime, account, platform, entries)
    refused += nobody + _domainless(entries, platform)
    if refused:
        raise Invalid([{"field": "csv", "line": r.line, "message": f"line {r.line}: {r.message}"}
                       for r in sorted(refused, key=lambda r: r.line)], error="invalid block list")
    outcomes = [LineOutcome(r.line, "", "left out", r.message) for r in left_out]
    for entry in entries:
        outcomes.append(await _add(session, account, platform, entry, who.get(entry.key), undo_existing, caller))
    outcomes.sort(key=lambda o: o.line)
    added = sum(o.outcome == "added" for o in outcomes)
    await record(session, caller, "block.import", target_type="block", target_id="csv",
                 account_id=None if account is None else account.id,
                 detail={"added": added, "skipped": sum(o.outcome == "skipped" for o in outcomes),
                         "left_out": len(left_out), "undo_existing": undo_existing, "platform": platform})
    return {"added": added, "skipped": sum(o.outcome == "skipped" for o in outcomes), "left_out": len(left_out),
            "lines": [o.__dict__ for o in outcomes]}


async def _import_platform(session: AsyncSession, platform: str | None, entries: Sequence[Entry]) -> str | None:
    """A global import's platform: as given; else, when it names authors, the one platform in use."""
    if platform is not None or any(e.domain is None for e in entries):
        return await global_platform(session, platform)
    return None


def _domainless(entries: Sequence[Entry], platform: str | None) -> list[Refusal]:
    if platform is None or get_platform(platform).handles_have_domains:
        return []
    return [Refusal(e.line, f"authors on {platform} are not in domains") for e in entries if e.domain is not None]


async def _resolve(session: AsyncSession, runtime, account: Account | None, platform: str | None,
                   entries: Sequence[Entry]) -> tuple[dict[str, Resolved], list[Refusal]]:
    """Who each author line names (the first INLINE_LOOKUPS asked now, the rest pending for the
    identity job), and the lines that name nobody."""
    through = account if account is not None else (
        await accounts_repo.first_enabled_on(session, platform) if platform else None)
    client = None if through is None else client_for(runtime, through)
    home = home_domain(through) if through is not None else None
    found: dict[str, Resolved] = {}
    nobody: list[Refusal] = []
    for entry in entries:
        if entry.domain is not None or entry.key in found:
            continue
        name = clean_name(entry.key, domain=home)
        asked = client is not None and len(found) < INLINE_LOOKUPS
        resolved = await resolve_one(client, name) if asked and client is not None else Resolved(name, None, name)
        if resolved is None:
            nobody.append(Refusal(entry.line, f"nobody on {platform} is called {entry.written!r}"))
        else:
            found[entry.key] = resolved
    return found, nobody


async def _add(session: AsyncSession, account: Account | None, platform: str | None, entry: Entry,
               who: Resolved | None, undo: bool, caller: Caller) -> LineOutcome:
    data = BlockCreate(author=entry.key, reason=entry.reason, undo_existing=undo,
                       platform=platform if account is None else None)
    try:
        if entry.domain is not None:
            made = await add_domain_block(session, account=account, data=data, domain=entry.domain, caller=caller)
        elif who is None:  # (never: every author line was resolved or refused above)
            raise Invalid(f"line {entry.line}: {entry.written!r} was not looked up", error="invalid block list")
        else:
            made = await add_resolved_block(session, account=account, platform=platform, who=who, data=data,
                                            caller=caller)
    except Conflict as exc:
        return LineOutcome(entry.line, entry.written, "skipped", str(exc.detail))
    block = made["block"]
    return LineOutcome(entry.line, entry.written, "added", block.handle or block.author)
