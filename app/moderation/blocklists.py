"""Block lists in and out as CSV (app/moderation/blocklist_csv.py reads and writes the files).

An import is all or nothing: a line that cannot be read, or names nobody on the platform, refuses the
whole file (a 422 naming every such line) and nothing is stored. Otherwise each line is added (with
what `POST .../blocks` does: resolved, waiting posts stopped, undo if asked, one audit event each) or
skipped (blocked already, or repeated in the file), and the answer says which, line by line. The
new blocks are matched against the actions in one pass (`_matcher`, the same rules as the
repository's queries and `decide`), so ten thousand lines do not make ten thousand scans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as accounts_repo
from app.actions import states
from app.actions.service import request_undo
from app.audit import record
from app.auth.caller import Caller
from app.db.base import utcnow
from app.engine.decide import domain_reason, pds_reason
from app.errors import AppError, Invalid
from app.models import Account, ActionStatus, Block, BlockKind
from app.moderation import pds_blocks, repository
from app.moderation.blocklist_csv import CsvTooLarge, Entry, Refusal, decode, parse, write_mastodon, write_ours
from app.moderation.domains import block_key, clean_domain, domain_of_key, pds_of_key, shown
from app.moderation.identity import INLINE_LOOKUPS, Resolved, clean_name, client_for, home_domain, resolve_one
from app.moderation.service import global_platform
from app.platforms.handles import author_domain, domain_and_parents
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
    if block.kind == BlockKind.pds:
        return block.author
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
    if account is not None and home_domain(account):
        entries = [_as_domain(entry) for entry in entries]
    platform = account.platform if account is not None else await _import_platform(session, platform, entries)
    who, nobody = await _resolve(session, runtime, account, platform, entries)
    refused += nobody + _domainless(entries, platform)
    if refused:
        raise Invalid([{"field": "csv", "line": r.line, "message": f"line {r.line}: {r.message}"}
                       for r in sorted(refused, key=lambda r: r.line)], error="invalid block list")
    outcomes = [LineOutcome(r.line, "", "left out", r.message) for r in left_out]
    outcomes += await _add_all(session, account, platform, entries, who, undo_existing, caller)
    outcomes.sort(key=lambda o: o.line)
    added = sum(o.outcome == "added" for o in outcomes)
    await record(session, caller, "block.import", target_type="block", target_id="csv",
                 account_id=None if account is None else account.id,
                 detail={"added": added, "skipped": sum(o.outcome == "skipped" for o in outcomes),
                         "left_out": len(left_out), "undo_existing": undo_existing, "platform": platform})
    return {"added": added, "skipped": sum(o.outcome == "skipped" for o in outcomes), "left_out": len(left_out),
            "lines": [o.__dict__ for o in outcomes]}


def _as_domain(entry: Entry) -> Entry:
    """On a server whose authors are `user` or `user@domain` (Mastodon), a bare `spam.example` can only
    be a domain: so Mastodon's own blocked_domains.csv (one domain a line) imports as it is."""
    if entry.domain is not None or "@" in entry.key or ":" in entry.key or "." not in entry.key:
        return entry
    try:
        return replace(entry, key=block_key(clean_domain(entry.key)))
    except ValueError:
        return entry


async def _import_platform(session: AsyncSession, platform: str | None, entries: Sequence[Entry]) -> str | None:
    """A global import's platform: as given; else, when it names authors, the one platform in use."""
    if platform is not None or any(e.domain is None and e.pds is None for e in entries):
        return await global_platform(session, platform)
    return None


def _domainless(entries: Sequence[Entry], platform: str | None) -> list[Refusal]:
    if platform is None:
        return []
    refused = [Refusal(e.line, f"a PDS block is for Bluesky: authors on {platform} are not hosted on a PDS")
               for e in entries if e.pds is not None and platform != pds_blocks.PLATFORM]
    if get_platform(platform).handles_have_domains:
        return refused
    return refused + [Refusal(e.line, f"authors on {platform} are not in domains")
                      for e in entries if e.domain is not None]


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
        if entry.domain is not None or entry.pds is not None or entry.key in found:
            continue
        name = clean_name(entry.key, domain=home)
        asked = client is not None and len(found) < INLINE_LOOKUPS
        resolved = await resolve_one(client, name) if asked and client is not None else Resolved(name, None, name)
        if resolved is None:
            hint = f" (a domain? write *@{entry.written})" if "." in entry.written and "@" not in entry.written else ""
            nobody.append(Refusal(entry.line, f"nobody on {platform} is called {entry.written!r}{hint}"))
        else:
            found[entry.key] = resolved
    return found, nobody


async def _add_all(session: AsyncSession, account: Account | None, platform: str | None, entries: Sequence[Entry],
                   who: dict[str, Resolved], undo: bool, caller: Caller) -> list[LineOutcome]:
    """Add the new blocks of the file together (skipping those blocked already or repeated), stop
    their waiting posts and undo their earlier reposts in one pass over the actions."""
    account_id = None if account is None else account.id
    existing = await repository.block_keys(session, account_id, platform)
    first: dict[str, int] = {}
    outcomes: list[LineOutcome] = []
    made: list[tuple[Entry, Block]] = []
    for entry in entries:
        resolved = who.get(entry.key)
        key = resolved.key if entry.domain is None and resolved is not None else entry.key
        if key in existing or key in first:
            why = "blocked already" if key in existing else f"the same as line {first[key]}"
            outcomes.append(LineOutcome(entry.line, entry.written, "skipped", why))
            continue
        first[key] = entry.line
        made.append((entry, _new_block(account_id, platform, entry, resolved, undo, caller)))
    session.add_all([block for _, block in made])
    await session.flush()
    counts = await _stop_and_undo(session, account, platform, [block for _, block in made], undo, caller)
    for entry, block in made:
        unqueued, undone = counts.get(block.id, (0, 0))
        await record(session, caller, "block.create", target_type="block", target_id=block.author,
                     account_id=account_id,
                     detail={"reason": block.reason, "undo_existing": undo, "undo_queued": undone,
                             "unqueued": unqueued, "scope": "global" if account_id is None else "account",
                             "kind": block.kind, "name": entry.written, "handle": block.handle,
                             "pending": block.pending, "import_line": entry.line})
        outcomes.append(LineOutcome(entry.line, entry.written, "added", block.handle or block.author))
    return outcomes


def _new_block(account_id: int | None, platform: str | None, entry: Entry, who: Resolved | None, undo: bool,
               caller: Caller) -> Block:
    common = {"account_id": account_id, "platform": platform, "reason": entry.reason, "undo_existing": undo,
              "created_by": caller.label}
    if entry.pds is not None:
        return Block(kind=BlockKind.pds, author=entry.key, handle=entry.key, pending=False,
                     **{**common, "platform": pds_blocks.PLATFORM})
    if entry.domain is not None or who is None:
        return Block(kind=BlockKind.domain, author=entry.key, handle=shown(entry.domain or "", platform),
                     pending=False, **common)
    return Block(kind=BlockKind.author, author=who.key, handle=who.handle, pending=who.pending,
                 checked_at=utcnow(), **common)


async def _stop_and_undo(session: AsyncSession, account: Account | None, platform: str | None,
                         blocks: Sequence[Block], undo: bool, caller: Caller) -> dict[int, tuple[int, int]]:
    """Per new block: how many waiting posts it stopped and how many earlier reposts it asked to undo."""
    if not blocks:
        return {}
    account_id = None if account is None else account.id
    accounts = [account] if account is not None else await repository.accounts_on(session, platform)
    match = _matcher(blocks, {a.id: home_domain(a) for a in accounts}, await _hosted(session, blocks))
    waiting = states.sources(ActionStatus.skipped, among=states.WAITING)
    stopped: dict[int, int] = {}
    for block, ids in (await _matched(session, account_id, platform, waiting, match)).items():
        stopped[block.id] = await repository.skip_waiting(session, ids, _stop_reason(block))
    undone: dict[int, int] = {}
    if undo:
        for block, ids in (await _matched(session, account_id, platform, [ActionStatus.done], match)).items():
            for action in await repository.actions_in(session, ids):
                await request_undo(session, action=action, caller=caller, why=_undo_why(block))
            undone[block.id] = len(ids)
    return {block.id: (stopped.get(block.id, 0), undone.get(block.id, 0)) for block in blocks}


async def _hosted(session: AsyncSession, blocks: Sequence[Block]) -> dict[str, str]:
    """DID -> PDS host of the cached authors on the new blocks' PDSes (none without PDS blocks)."""
    hosts = [pds_of_key(b.author) or "" for b in blocks if b.kind == BlockKind.pds]
    return await repository.hosted_on(session, hosts) if hosts else {}


def _matcher(blocks: Sequence[Block], homes: dict[int, str | None], hosted: dict[str, str]):
    """(account id, author id, author handle) -> the new block that holds for that author, or None:
    by id once resolved, by name while pending (as the repository's `_by_author`), by domain, by the
    author's cached PDS (`hosted`: DID -> host)."""
    by_id = {b.author: b for b in blocks if b.kind == BlockKind.author and not b.pending}
    by_name = {b.author: b for b in blocks if b.kind == BlockKind.author and b.pending}
    by_domain = {b.author.removeprefix("*."): b for b in blocks if b.kind == BlockKind.domain}
    by_pds = {pds_of_key(b.author): b for b in blocks if b.kind == BlockKind.pds}

    def match(account_id: int, author_id: str, handle: str) -> Block | None:
        found = by_id.get(author_id.lower()) or by_name.get(handle) or by_name.get(author_id)
        host = hosted.get(author_id.lower())
        if found is None and host is not None:
            found = next((by_pds[h] for h in domain_and_parents(host) if h in by_pds), None)
        if found is not None or not by_domain:
            return found
        domain = author_domain(handle, home=homes.get(account_id))
        return next((by_domain[d] for d in domain_and_parents(domain) if d in by_domain), None) if domain else None

    return match


async def _matched(session: AsyncSession, account_id: int | None, platform: str | None, statuses, match):
    """The new blocks' actions among those in `statuses`: block -> action ids."""
    found: dict[Block, list[int]] = {}
    for action_id, owner, author_id, handle in await repository.authors_of_actions(
            session, account_id=account_id, platform=platform, statuses=statuses):
        block = match(owner, author_id, handle)
        if block is not None:
            found.setdefault(block, []).append(action_id)
    return found


def _stop_reason(block: Block) -> str:
    if block.kind == BlockKind.pds:
        return pds_reason(pds_of_key(block.author) or "", block.reason)
    domain = domain_of_key(block.author) if block.kind == BlockKind.domain else None
    return domain_reason(domain, block.reason) if domain else f"blocked: {block.reason or 'no reason given'}"


def _undo_why(block: Block) -> str:
    if block.kind == BlockKind.pds:
        return f"PDS {pds_of_key(block.author)} blocked: {block.reason}"
    domain = domain_of_key(block.author) if block.kind == BlockKind.domain else None
    return f"domain {domain} blocked: {block.reason}" if domain else f"author blocked: {block.reason}"
