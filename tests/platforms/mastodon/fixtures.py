"""Account and Status entities shaped as docs.joinmastodon.org/entities documents them."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BASE = "https://social.example"
_ids = itertools.count(113_000_000_000_000_000)
_TOKEN = re.compile(r"(#\w+|@[\w.]+(?:@[\w.-]+)?|https?://\S+)")


def next_id() -> str:
    """Snowflake-like ids, increasing with time, as Mastodon's are."""
    return str(next(_ids))


def make_account(username: str, *, domain: str | None = None, **overrides: Any) -> dict[str, Any]:
    """An Account entity with every required field."""
    acct = f"{username}@{domain}" if domain else username
    host = f"https://{domain}" if domain else BASE
    account = {
        "id": next_id(),
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "indexable": True,
        "created_at": "2022-11-05T00:00:00.000Z",
        "note": f"<p>I am {html.escape(username)}.</p>",
        "url": f"{host}/@{username}",
        "uri": f"{host}/users/{username}",
        "avatar": f"{BASE}/avatars/original/missing.png",
        "avatar_static": f"{BASE}/avatars/original/missing.png",
        "header": f"{BASE}/headers/original/missing.png",
        "header_static": f"{BASE}/headers/original/missing.png",
        "followers_count": 250,
        "following_count": 120,
        "statuses_count": 42,
        "last_status_at": "2025-01-01",
        "emojis": [],
        "fields": [],
    }
    account.update(overrides)
    return account


@dataclass
class Fixtures:
    """The accounts and statuses of the fake instance, and builders for them."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    me: dict[str, Any] = field(default_factory=dict)
    # Server profile: Takahē reports local accounts' `acct` with the instance's domain
    # (`alice@social.example`), where Mastodon reports `alice` (see tests/platforms/specs/mastodon-servers.md).
    local_acct_with_domain: bool = False

    def __post_init__(self) -> None:
        self.me = self.add_account("reposter_bot")

    def local_domain(self) -> str:
        return BASE.removeprefix("https://")

    def same_acct(self, account: dict[str, Any], acct: str) -> bool:
        """Whether `acct` names the account (a local one with or without the instance's domain)."""
        local = f"@{self.local_domain()}"
        return account["acct"].lower().removesuffix(local) == acct.lower().removesuffix(local)

    def add_account(self, username: str, **overrides: Any) -> dict[str, Any]:
        """An account on (or known to) the instance; the same acct gives the same account."""
        domain = overrides.get("domain")
        acct = f"{username}@{domain}" if domain else username
        for account in self.accounts.values():
            if self.same_acct(account, acct):
                return account
        if not domain and self.local_acct_with_domain:
            overrides["acct"] = f"{username}@{self.local_domain()}"
        account = make_account(username, **{k: v for k, v in overrides.items() if k != "acct"})
        account.update({"acct": overrides["acct"]} if "acct" in overrides else {})
        self.accounts[account["id"]] = account
        return account

    def credential_account(self) -> dict[str, Any]:
        """The bot's own account as verify_credentials returns it (with `source`)."""
        source = {
            "privacy": "public",
            "sensitive": False,
            "language": "en",
            "note": "",
            "fields": [],
            "follow_requests_count": 0,
            "indexable": True,
        }
        role = {"id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False}
        return {**self.me, "source": source, "role": role}

    def content(self, text: str) -> tuple[str, list[dict], list[dict]]:
        """Mastodon's HTML for `text`, with its tags and mentions entities."""
        tags: list[dict] = []
        mentions: list[dict] = []
        parts = []
        for piece in _TOKEN.split(text):
            if piece.startswith("#") and len(piece) > 1:
                name = piece[1:]
                tags.append({"name": name.lower(), "url": f"{BASE}/tags/{name.lower()}"})
                parts.append(f'<a href="{BASE}/tags/{name.lower()}" class="mention hashtag" rel="tag">'
                             f'#<span>{name}</span></a>')
            elif piece.startswith("@") and len(piece) > 1:
                who = self.add_account(piece[1:].split("@")[0])
                mentions.append({"id": who["id"], "username": who["username"], "acct": who["acct"], "url": who["url"]})
                parts.append(f'<span class="h-card"><a href="{who["url"]}" class="u-url mention">'
                             f'@<span>{who["username"]}</span></a></span>')
            elif piece.startswith("http"):
                parts.append(f'<a href="{piece}" rel="nofollow noopener" target="_blank">'
                             f'<span class="invisible">https://</span><span class="">{piece.removeprefix("https://")}'
                             '</span><span class="invisible"></span></a>')
            else:
                parts.append(html.escape(piece))
        return f"<p>{''.join(parts)}</p>" if text else "", tags, mentions

    def edit_status(self, status_id: str, text: str) -> dict[str, Any]:
        """The author edits a status: same id, new content, tags and mentions, and `edited_at` set."""
        status = self.statuses[status_id]
        status["content"], status["tags"], status["mentions"] = self.content(text)
        status["edited_at"] = "2025-06-01T12:30:00.000Z"
        return status

    def make_id(self) -> str:
        """The id of a new status (a server profile may mint them otherwise)."""
        return next_id()

    def new_status(self, author: dict, text: str, **extra: Any) -> dict[str, Any]:
        """A Status entity by `author`: `reblog_of`, `quote_of`, `reply_to` ids, `media`, and
        `status_id` for one minted earlier (a status delivered late keeps the id it was made with)."""
        sid = extra.get("status_id") or self.make_id()
        body, tags, mentions = self.content(text)
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        status: dict[str, Any] = {
            "id": sid,
            "created_at": extra.get("created_at") or now,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": extra.get("visibility") or "public",
            "language": "en",
            "uri": f"{author['uri']}/statuses/{sid}",
            "url": f"{author['url']}/{sid}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "edited_at": None,
            "content": body,
            "reblog": None,
            "quote": None,
            "application": {"name": "Web", "website": None},
            "account": author,
            "media_attachments": [_image(n) for n in range(extra.get("media", 0))],
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if extra.get("reply_to"):
            parent = self.statuses[extra["reply_to"]]
            status["in_reply_to_id"] = parent["id"]
            status["in_reply_to_account_id"] = parent["account"]["id"]
        if extra.get("reblog_of"):
            status["reblog"] = self.statuses[extra["reblog_of"]]
            status["content"], status["tags"], status["mentions"] = "", [], []
            status["url"] = None
        if extra.get("quote_of"):
            status["quote"] = {"state": "accepted", "quoted_status": self.statuses[extra["quote_of"]]}
        self.statuses[sid] = status
        self.arrived(sid)
        return status

    def arrived(self, status_id: str) -> None:
        """A hook: the server notes the order statuses reach it in."""


def _image(n: int) -> dict[str, Any]:
    return {
        "id": str(22_000_000 + n),
        "type": "image",
        "url": f"{BASE}/media/{n}.png",
        "preview_url": f"{BASE}/media/{n}_small.png",
        "remote_url": None,
        "description": "a cup of coffee",
        "blurhash": "UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$",
    }
