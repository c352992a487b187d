"""Our rule language -> X's filtered-stream (or search) query syntax, and syncing stream rules.

Our language is X's syntax, so most queries pass through as they are. What does not:
`is:bot` (X has no such operator), `followers_count:` in a search query (a filtered-stream-only
operator), a negated group (X asks for `a -b -c` instead of `a -(b OR c)`; an OR of plain terms
is rewritten that way, anything else does not translate), an operator we do not know, and a
query longer than the app's access level allows. `is:repost` becomes X's `is:retweet`.

X's stream is only a first sieve: every post it delivers is decided again by our own engine, so
a translated rule may match more than ours, never less. One known gap: X's stream matches an
accented keyword only in accented text (`café` misses `cafe`), where ours ignores accents;
such posts still arrive by polling.

Stream rules belong to the app, not the account: `sync_stream_rules` adds the rules it is given,
tagged `reposter`, and with `prune=True` deletes the `reposter` rules nobody asked for. It looks
before it creates: an add whose answer was lost (OutcomeUnknown) is never repeated as it was; the
rules are listed again and only those still missing are added (a blind repeat made one rule three
times where X took rules it already had).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.platforms.base import OutcomeUnknown
from app.platforms.x.client import XClient

log = logging.getLogger("reposter.platforms.x")

RULES_PATH = "/2/tweets/search/stream/rules"
RULE_TAG = "reposter"
# Adds whose answer was lost before the rules are left to the next sync.
ADD_ROUNDS = 3
NARROWING = {
    "is": {"reply", "retweet", "quote", "repost"},
    "has": {"links", "media", "hashtags", "mentions"},
}
_TOKEN = re.compile(r'\s*(-?"[^"]*"|-?\(|\)|[^\s()]+)')
_WORD = re.compile(r"^[\w#@]+$")


def to_x_query(query: str, *, for_stream: bool = True, max_length: int = 512) -> str | None:
    """`query` in X's syntax, or None when it does not translate (see the module's docstring)."""
    tokens = _tokenize(query)
    if not tokens or not _well_formed(tokens):
        return None
    parts = _translate(tokens, for_stream)
    if parts is None or not any(standalone for _, standalone in parts):
        return None  # X refuses a rule with no positive standalone term
    text = " ".join(part for part, _ in parts).replace("( ", "(").replace(" )", ")")
    return text if len(text) <= max_length else None


def rule_for_source(source: str, *, for_stream: bool = True, max_length: int = 512) -> str | None:
    """The X query that yields a feed source's posts (tag:, tags:, search:, user:), or None."""
    kind, _, arg = source.partition(":")
    if kind == "tag" and arg:
        return f"#{arg.lstrip('#')}"
    if kind == "tags" and arg:
        return " OR ".join(f"#{tag.strip().lstrip('#')}" for tag in arg.split(",") if tag.strip()) or None
    if kind == "user" and arg:
        return f"from:{arg.lstrip('@')}"
    if kind == "search":
        return to_x_query(arg, for_stream=for_stream, max_length=max_length)
    return None


def _tokenize(query: str) -> list[str] | None:
    tokens, pos, query = [], 0, query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None:
            return None  # an unterminated quote
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _well_formed(tokens: list[str]) -> bool:
    """Balanced parentheses and no dangling OR."""
    depth, previous = 0, None
    for token in tokens:
        if (token == "OR" and previous in (None, "OR")) or (token == ")" and previous in ("OR", "(", "-(")):
            return False
        if token.endswith("("):
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                return False
        previous = token
    return depth == 0 and previous != "OR"


def _translate(tokens: list[str], for_stream: bool) -> list[tuple[str, bool]] | None:
    """Each token in X's syntax with whether it is a positive standalone term; None if one fails."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "-(":
            end = tokens.index(")", i)
            group = _negate_group(tokens[i + 1 : end], for_stream)
            if group is None:
                return None
            out.extend((term, False) for term in group)
            i = end + 1
            continue
        if token in ("(", ")", "OR"):
            out.append((token, False))
        else:
            negated = token.startswith("-")
            term = _term(token[1:] if negated else token, for_stream)
            if term is None:
                return None
            text, standalone = term
            out.append((f"-{text}" if negated else text, standalone and not negated))
        i += 1
    return out


def _negate_group(inner: list[str], for_stream: bool) -> list[str] | None:
    """-(a OR b OR c) as -a -b -c; None for any other negated group."""
    terms = inner[0::2]
    if any(op != "OR" for op in inner[1::2]) or any(t in ("(", "-(", "OR") or t.startswith("-") for t in terms):
        return None
    negated = []
    for term in terms:
        translated = _term(term, for_stream)
        if translated is None:
            return None
        negated.append(f"-{translated[0]}")
    return negated


def _term(token: str, for_stream: bool) -> tuple[str, bool] | None:
    """One positive term in X's syntax and whether it can stand alone; None if X has no equivalent."""
    if not token:
        return None
    if '"' in token:  # a phrase, whole, or nothing
        closed = len(token) > 1 and token.startswith('"') and token.endswith('"') and token.count('"') == 2
        return (token, True) if closed else None
    name, colon, value = token.partition(":")
    if not colon:
        return (token, True) if _WORD.match(token) else (f'"{token}"', True)
    if not value:
        return None
    if name in NARROWING:
        return (f"{name}:{'retweet' if value == 'repost' else value}", False) if value in NARROWING[name] else None
    if name == "lang":
        return token, False
    if name == "followers_count":
        valid = re.fullmatch(r"\d+(\.\.\d+)?", value)
        return (token, False) if for_stream and valid else None
    if name in ("from", "to"):
        return f"{name}:{value.lstrip('@')}", True
    if name == "url":
        return (f'url:"{value}"' if re.search(r"[:/]", value) else token), True
    return None


@dataclass
class RuleSync:
    """What a sync did, and every rule the app has afterwards (id -> value)."""

    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)


async def sync_stream_rules(client: XClient, values: Iterable[str], *, prune: bool = False) -> RuleSync:
    """Make the app's stream rules include `values`; with `prune`, drop other `reposter` rules."""
    wanted = list(dict.fromkeys(values))
    current = await list_stream_rules(client)
    result = RuleSync(rules={rule["id"]: rule["value"] for rule in current})
    stale = [r["id"] for r in current if prune and r.get("tag") == RULE_TAG and r["value"] not in wanted]
    if stale:  # delete first, so that a full rule set has room for the new ones
        await client.call("POST", RULES_PATH, app=True, json={"delete": {"ids": stale}}, idempotent=True)
        result.deleted = stale
        for rule_id in stale:
            result.rules.pop(rule_id)
    for round_ in range(1, ADD_ROUNDS + 1):
        missing = [value for value in wanted if value not in result.rules.values()]
        if not missing:
            break
        try:
            body = await client.call(
                "POST", RULES_PATH, app=True, json={"add": [{"value": v, "tag": RULE_TAG} for v in missing]}
            )
        except OutcomeUnknown:
            if round_ == ADD_ROUNDS:
                raise
            # X may have added them: look again, and add only what is still missing.
            result.rules = {rule["id"]: rule["value"] for rule in await list_stream_rules(client)}
            continue
        for rule in body.get("data") or []:
            result.rules[rule["id"]] = rule["value"]
            result.added.append(rule["value"])
        result.rejected = _rejected(body, missing)
        break
    log.info(
        "x stream rules synced",
        extra={"added": len(result.added), "deleted": len(result.deleted), "rejected": len(result.rejected)},
    )
    return result


async def list_stream_rules(client: XClient) -> list[dict[str, str]]:
    """Every stream rule of the app ({id, value, tag}), following pagination."""
    rules: list[dict[str, str]] = []
    token: str | None = None
    while True:
        body = await client.call("GET", RULES_PATH, app=True, params={"pagination_token": token} if token else None)
        rules.extend(body.get("data") or [])
        token = (body.get("meta") or {}).get("next_token")
        if not token:
            return rules


def _rejected(body: dict, missing: list[str]) -> dict[str, str]:
    """Values X refused to add, with its reason (an operator our access level lacks, a bad rule)."""
    added = {rule["value"] for rule in body.get("data") or []}
    reasons = {e.get("value"): e.get("title") or e.get("detail") or "refused" for e in body.get("errors") or []}
    rejected = {value: reasons.get(value, "refused") for value in missing if value not in added}
    for value, reason in rejected.items():
        log.warning("x stream rule refused", extra={"rule": value, "reason": reason})
    return rejected
