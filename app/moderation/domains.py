"""Domain blocks: reading `*@spam.example` (a Mastodon instance) and `*.spam.example` (Bluesky
handles under a domain) into one domain, checked as a real host name.

A domain block is not a person: it names a place (an instance, a handle domain), which is a name,
not an id. It holds for the domain and every subdomain of it, as Mastodon's own domain blocks do.
"""

from __future__ import annotations

import re

DOMAIN_MAX = 253  # a host name's limit (RFC 1035), before the stored `*.` prefix
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PREFIX = "*."  # how a domain block's key starts: no handle or platform id begins with `*`


def is_pattern(value: str) -> bool:
    """Whether `value` is typed as a domain block (`*@…`, `@*@…`, `*.…`) rather than an author."""
    return value.strip().lstrip("@").startswith("*")


def clean_domain(value: str) -> str:
    """`Spam.Example.`, `bücher.example` -> `spam.example`, `xn--bcher-kva.example`; ValueError with
    the reason for what is not a host name of at least two labels."""
    text = value.strip().rstrip(".").lower()
    if not text:
        raise ValueError("the domain is missing (*@spam.example, *.spam.example)")
    if any(not c.isprintable() or c.isspace() for c in text) or len(text) > DOMAIN_MAX * 2:
        raise ValueError("a domain has no spaces or control characters")
    try:
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{text[:80]!r} is not a domain ({exc})") from exc
    labels = ascii_form.split(".")
    if len(ascii_form) > DOMAIN_MAX or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{text[:80]!r} is not a domain: labels of letters, digits and inner hyphens, "
                         f"at most 63 each and {DOMAIN_MAX} in all")
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValueError(f"{text[:80]!r}: name a domain of two labels or more (spam.example), not a top-level "
                         "domain or an address")
    return ascii_form


def domain_of_pattern(value: str) -> str:
    """`*@spam.example`, `@*@spam.example`, `*.spam.example` -> `spam.example` (ValueError otherwise)."""
    text = value.strip().lstrip("@")
    for prefix in ("*@", "*."):
        if text.startswith(prefix):
            return clean_domain(text[len(prefix):])
    raise ValueError("a domain block is written *@domain (an instance) or *.domain (handles under a domain)")


def block_key(domain: str) -> str:
    """What a domain block stores in `blocks.author`."""
    return PREFIX + domain


def domain_of_key(key: str) -> str | None:
    """The domain a block's key names; None for an author block."""
    return key[len(PREFIX):] if key.startswith(PREFIX) else None


def shown(domain: str, platform: str | None) -> str:
    """The block as people of the platform write it: `*.domain` on Bluesky, `*@domain` elsewhere."""
    return f"*.{domain}" if platform == "bluesky" else f"*@{domain}"


# --- PDS blocks: every Bluesky author whose repository a PDS hosts ------------------------------

PDS_PREFIX = "pds:"  # how a PDS block is written and kept (`pds:pds.spam.example`): no handle or DID is


def is_pds(value: str) -> bool:
    """Whether `value` is typed as a PDS block (`pds:host`)."""
    return value.strip().lower().startswith(PDS_PREFIX)


def pds_of_typed(value: str) -> str:
    """`pds:PDS.Spam.Example`, `pds:https://pds.spam.example/` -> `pds.spam.example` (a host name,
    checked as a domain's); ValueError otherwise."""
    text = value.strip()[len(PDS_PREFIX):].strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
    text = text.rstrip("/")
    if not text:
        raise ValueError("the PDS's host is missing (pds:pds.spam.example)")
    return clean_domain(text)


def pds_key(host: str) -> str:
    """What a PDS block stores in `blocks.author` (and shows as its handle)."""
    return PDS_PREFIX + host


def pds_of_key(key: str) -> str | None:
    """The host a PDS block's key names; None for other blocks."""
    return key[len(PDS_PREFIX):] if key.startswith(PDS_PREFIX) else None
