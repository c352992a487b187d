"""Who a name is: cleaning what people type, and resolving it through the platform to a stable id.

An author is the platform's id (Bluesky DID, Mastodon account id, X user id); a handle is a label
that changes. Everything that names a person (blocks, opt-out and consent lists, `users:` scopes,
`from:`/`to:`/`@` terms) is resolved when it is added and matched by the id from then on. While
the platform cannot be reached, the name is kept *pending*: it matches by the name as typed (as
before ids existed) and the identity job resolves it later. See docs/decisions.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.accounts.context import context_for
from app.errors import Invalid
from app.models import Account
from app.platforms.base import ActionClient, PlatformError
from app.platforms.handles import handle_key
from app.platforms.registry import get_platform

log = logging.getLogger("reposter.identity")

# Names resolved while the caller waits; more (a long `users:` list) wait for the identity job.
INLINE_LOOKUPS = 50


def clean_name(value: str, *, domain: str | None = None) -> str:
    """`@Alice`, ` alice `, `alice@own.instance` on own.instance -> `alice`; ids lower-cased as they are.

    Raises ValueError for what cannot name anyone (empty, spaces inside, too long, control characters).
    """
    name = handle_key(value, domain=domain)
    if not name or len(name) > 255 or not name.isprintable() or any(c.isspace() for c in name):
        raise ValueError("an author is a handle (with or without @, user@domain on Mastodon) or a platform id, "
                         "without spaces")
    return name


def name_in(value: str) -> str:
    """The name a pasted profile or post address gives (`https://inst/@alice` -> `alice@inst`,
    `https://bsky.app/profile/alice.bsky.social/post/x` -> `alice.bsky.social`, `https://x.com/alice`
    -> `alice`); anything that is not such an address comes back as it is."""
    text = value.strip()
    parsed = urlsplit(text) if "://" in text else None
    parts = [part for part in parsed.path.split("/") if part] if parsed else []
    if parsed is None or not parts:
        return text
    host = (parsed.hostname or "").lower() if parsed.scheme in ("http", "https") else ""
    if parts[0] == "profile" and len(parts) > 1:  # Bluesky's web app
        return parts[1]
    if parts[0].startswith("@") or (parts[0] == "users" and len(parts) > 1):  # Mastodon (and mock://)
        name = parts[0][1:] if parts[0].startswith("@") else parts[1]
        return name if "@" in name or not host else f"{name}@{host}"
    if host.removeprefix("www.").removeprefix("mobile.") in ("x.com", "twitter.com"):
        return parts[0]
    return text


def home_domain(account: Account) -> str | None:
    """The domain a local handle may carry on the account's server (Mastodon's `user@domain`)."""
    return get_platform(account.platform).home_domain(dict(account.config or {}))


@dataclass(frozen=True)
class Resolved:
    """A name and who it turned out to be; `author_id` None while pending."""

    name: str
    author_id: str | None
    handle: str
    # who the platform says this is, to show before a block is confirmed (None when it did not say)
    display_name: str | None = None
    avatar_url: str | None = None

    @property
    def pending(self) -> bool:
        """Not resolved yet: the platform could not be asked."""
        return self.author_id is None

    @property
    def key(self) -> str:
        """What is stored and matched: the id once known, else the name."""
        return (self.author_id or self.name).lower()


def client_for(runtime, account: Account) -> ActionClient:
    """The account's ActionClient, to ask its platform who a name is."""
    return get_platform(account.platform).action_client(context_for(account, runtime.fernet), runtime.http)


async def resolve_one(client: ActionClient, name: str) -> Resolved | None:
    """Who `name` is; None when nobody; pending when the platform cannot answer now."""
    try:
        author = await client.lookup_author(name)
    except PlatformError as exc:
        log.info("author lookup failed; kept pending", extra={"author": name, "error": str(exc)})
        return Resolved(name, None, name)
    if author is None:
        return None
    return Resolved(name, author.id, handle_key(author.handle) or name, author.display_name, author.avatar_url)


async def resolve_names(runtime, account: Account | None, names: Iterable[str], *, what: str) -> dict[str, Resolved]:
    """Each name resolved through `account`'s platform (pending without an account, or beyond
    INLINE_LOOKUPS); a 422 naming every name that nobody has."""
    client = None if account is None else client_for(runtime, account)
    found: dict[str, Resolved] = {}
    nobody: list[str] = []
    for i, name in enumerate(dict.fromkeys(names)):
        if client is None or i >= INLINE_LOOKUPS:
            resolved: Resolved | None = Resolved(name, None, name)
        else:
            resolved = await resolve_one(client, name)
        if resolved is None:
            nobody.append(name)
        else:
            found[name] = resolved
    if nobody:
        where = account.platform if account is not None else "the platform"
        listed = ", ".join(repr(n) for n in nobody)
        raise Invalid(f"{what}: nobody on {where} is called {listed}", error="unknown author")
    return found
