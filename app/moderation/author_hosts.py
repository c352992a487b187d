"""Which PDS hosts a Bluesky author's repository, for PDS blocks (`pds:pds.spam.example`).

Neither the AppView's profile views nor Jetstream say where an author's repository lives: their DID
document does, as the endpoint of its `#atproto_pds` service. A did:plc document is read from the
PLC directory (`GET {plc_url}/{did}`, settings.plc_url), a did:web one from
`https://{host}/.well-known/did.json`. The answer is kept in `author_hosts` (DID -> host) and read
again after REFRESH_AFTER; a failed lookup is tried again after RETRY_AFTER (a host known before
stays in use meanwhile).

Only authors that matter are looked up, and only while a PDS block exists: the matcher asks for the
authors of the posts it matched for accounts that have PDS blocks (app/pipeline/matcher.py), after
its batch is committed and before the batch's actions are sent, a few at a time within
`pds_lookup_seconds`. An author whose PDS is not known (not looked up yet, or the lookup failed) is
not treated as blocked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

import httpx
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.dialect import is_postgres
from app.db.session import transaction
from app.models import AuthorHost, Block, BlockKind

log = logging.getLogger("reposter.author_hosts")

REFRESH_AFTER = timedelta(hours=24)  # a PDS move (account migration) is seen within a day
RETRY_AFTER = timedelta(minutes=10)  # a failed lookup is tried again after this long
CONCURRENCY = 8  # lookups at once (the PLC directory is one shared service)
CHUNK = 500  # DIDs per IN (...)


def is_did(value: str) -> bool:
    return value.startswith(("did:plc:", "did:web:"))


def document_url(did: str, plc_url: str) -> str:
    """Where the DID document is: the PLC directory for did:plc, the host's well-known path for did:web
    (`did:web:example.com:u:alice` -> https://example.com/u/alice/did.json, W3C did:web)."""
    if did.startswith("did:plc:"):
        return f"{plc_url.rstrip('/')}/{quote(did, safe=':')}"
    if did.startswith("did:web:"):
        parts = [unquote(part) for part in did.removeprefix("did:web:").split(":")]
        path = "/".join(quote(p) for p in parts[1:])
        return f"https://{parts[0]}/{path + '/' if path else '.well-known/'}did.json"
    raise ValueError(f"not a did:plc or did:web: {did[:80]!r}")


def pds_host_of(did: str, document: object) -> str:
    """The host of the document's `#atproto_pds` service endpoint (lower-cased, IDNA, no port);
    ValueError when the document is not this DID's or names no PDS."""
    if not isinstance(document, dict) or str(document.get("id", "")).lower() != did:
        raise ValueError("not this DID's document")
    for service in document.get("service") or []:
        if not isinstance(service, dict):
            continue
        ident = str(service.get("id", ""))
        if ident in ("#atproto_pds", f"{did}#atproto_pds") and service.get("type") == "AtprotoPersonalDataServer":
            endpoint = service.get("serviceEndpoint")
            host = urlsplit(endpoint).hostname if isinstance(endpoint, str) else None
            if not host:
                raise ValueError(f"the #atproto_pds endpoint is not a URL: {str(endpoint)[:80]!r}")
            try:
                return host.encode("idna").decode("ascii").lower()
            except UnicodeError as exc:
                raise ValueError(f"the PDS host {host[:80]!r} is not a host name") from exc
    raise ValueError("the DID document names no #atproto_pds service")


async def look_up(http: httpx.AsyncClient, did: str, *, plc_url: str, seconds: float) -> tuple[str | None, str | None]:
    """(host, None) or (None, why) for one DID."""
    try:
        response = await http.get(document_url(did, plc_url), timeout=seconds,
                                  headers={"Accept": "application/did+ld+json, application/json"})
        if response.status_code != 200:
            return None, f"HTTP {response.status_code} from {response.url.host}"
        return pds_host_of(did, response.json()), None
    except (httpx.HTTPError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


async def look_up_many(http: httpx.AsyncClient, dids: Collection[str], *, plc_url: str,
                       budget: float) -> dict[str, tuple[str | None, str | None]]:
    """Look these DIDs up, CONCURRENCY at a time, all within `budget` seconds; those not answered by
    then come back as failed ("timed out"), to be tried again later."""
    gate = asyncio.Semaphore(CONCURRENCY)
    found: dict[str, tuple[str | None, str | None]] = {}

    async def one(did: str) -> None:
        async with gate:
            found[did] = await look_up(http, did, plc_url=plc_url, seconds=budget)

    tasks = [asyncio.create_task(one(did)) for did in sorted(dids)]
    if tasks:
        _done, late = await asyncio.wait(tasks, timeout=budget)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    return {did: found.get(did, (None, f"no answer within {budget:g} s")) for did in dids}


def due(row: AuthorHost | None, now: datetime) -> bool:
    """Whether the author's PDS should be looked up (again) now."""
    if row is None:
        return True
    after = RETRY_AFTER if row.error is not None or row.pds_host is None else REFRESH_AFTER
    return row.resolved_at < now - after


async def known(session: AsyncSession, dids: Iterable[str]) -> dict[str, AuthorHost]:
    """The cached rows of these DIDs (lower-cased)."""
    listed = sorted({did.lower() for did in dids if is_did(did.lower())})
    rows: dict[str, AuthorHost] = {}
    for start in range(0, len(listed), CHUNK):
        query = select(AuthorHost).where(AuthorHost.did.in_(listed[start:start + CHUNK]))
        rows.update({row.did: row for row in await session.scalars(query)})
    return rows


async def save(session: AsyncSession, found: dict[str, tuple[str | None, str | None]], now: datetime) -> None:
    """Write lookups: a host found replaces the one kept; a failure keeps the host known before."""
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    for did, (host, error) in sorted(found.items()):
        stmt = insert(AuthorHost).values(did=did, pds_host=host, resolved_at=now, error=error)
        changes = {"resolved_at": now, "error": error, **({"pds_host": host} if host else {})}
        await session.execute(stmt.on_conflict_do_update(index_elements=["did"], set_=changes))
        if error:
            log.info("PDS lookup failed", extra={"did": did, "error": error})


def on_host(host: str):
    """author_hosts rows whose PDS is `host` or under it (`%`, `_` cannot occur in a checked host)."""
    return or_(AuthorHost.pds_host == host, AuthorHost.pds_host.like(f"%.{host}"))


def dids_on(host: str):
    """A subquery: the DIDs whose cached PDS is `host` or under it."""
    return select(AuthorHost.did).where(on_host(host))


async def any_pds_block(session: AsyncSession) -> bool:
    return await session.scalar(select(Block.id).where(Block.kind == BlockKind.pds).limit(1)) is not None


async def refresh(sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, dids: Collection[str], *,
                  plc_url: str, budget: float) -> int:
    """Look these DIDs up and keep the answers (in a transaction of its own, after the calls);
    returns how many hosts were found."""
    if not dids:
        return 0
    found = await look_up_many(http, dids, plc_url=plc_url, budget=budget)
    async with transaction(sessions) as session:
        await save(session, found, utcnow())
    return sum(host is not None for host, _ in found.values())
