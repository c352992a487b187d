"""Block lists as CSV: reading the files people bring (ours, Mastodon's domain-block export, a plain
list of names) and writing ours or Mastodon's. Pure: no database, no platform.

Formats read, told apart by the first row:
- ours, header `block,reason`: one author (`alice@instance`, `alice.bsky.social`, an id), domain
  (`*@spam.example`, `*.spam.example`) or PDS (`pds:pds.spam.example`) a line, with an optional reason;
- Mastodon's domain-block CSV (Administration > Federation > Export), header
  `#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate`: each domain is a domain
  block, `#public_comment` its reason; a `noop` severity (Mastodon blocks nothing with it) is left out;
- no header (Mastodon's own `blocked_accounts.csv` of `user@domain` lines): a name or `*@domain` in
  the first column, an optional reason in the second (on a Mastodon account a bare `spam.example` is
  a domain too, app/moderation/blocklists.py `_as_domain`: Mastodon's `blocked_domains.csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from app.moderation.domains import (
    block_key,
    clean_domain,
    domain_of_key,
    domain_of_pattern,
    is_pattern,
    is_pds,
    pds_key,
    pds_of_key,
    pds_of_typed,
)
from app.moderation.identity import clean_name

MAX_BYTES = 1_000_000
MAX_LINES = 10_000
REASON_MAX = 1000
OURS = ("block", "reason")
MASTODON = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")


class CsvTooLarge(ValueError):
    """More than MAX_BYTES or MAX_LINES."""


@dataclass(frozen=True)
class Entry:
    """One line to block: its number in the file, the key (`*.domain`, or the author's cleaned name),
    as written, and the reason."""

    line: int
    key: str
    written: str
    reason: str

    @property
    def domain(self) -> str | None:
        return domain_of_key(self.key)

    @property
    def pds(self) -> str | None:
        return pds_of_key(self.key)


@dataclass(frozen=True)
class Refusal:
    """A line that cannot be read, and why."""

    line: int
    message: str


def decode(body: bytes) -> str:
    """The upload as text (UTF-8, a byte-order mark dropped); CsvTooLarge or ValueError."""
    if len(body) > MAX_BYTES:
        raise CsvTooLarge(f"at most {MAX_BYTES:,} bytes")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from exc


def parse(text: str) -> tuple[list[Entry], list[Refusal], list[Refusal]]:
    """The entries of a block list, the lines refused, and the lines left out (with why)."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [Refusal(line, "a NUL character")], []
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(rows) > MAX_LINES + 1:
        raise CsvTooLarge(f"at most {MAX_LINES:,} lines")
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    entries: list[Entry] = []
    refused: list[Refusal] = []
    left_out: list[Refusal] = []
    mastodon = bool(header) and header[0] == "#domain"
    start = 1 if mastodon or tuple(header[:2]) == OURS or header[:1] == ["block"] else 0
    for number, row in enumerate(rows[start:], start=start + 1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        try:
            entry = _mastodon_row(number, cells, header) if mastodon else _row(number, cells)
        except _LeftOut as why:
            left_out.append(Refusal(number, str(why)))
            continue
        except ValueError as exc:
            refused.append(Refusal(number, str(exc)))
            continue
        entries.append(entry)
    return entries, refused, left_out


class _LeftOut(Exception):
    """A line read fine that blocks nothing (Mastodon's `noop` severity)."""


def _reason(value: str) -> str:
    if len(value) > REASON_MAX:
        raise ValueError(f"a reason of at most {REASON_MAX} characters")
    if any(not c.isprintable() and c not in "\r\n\t" for c in value):
        raise ValueError("a reason without control characters")
    return value


def _row(number: int, cells: list[str]) -> Entry:
    written = cells[0]
    if is_pds(written):
        return Entry(number, pds_key(pds_of_typed(written)), written, _reason(cells[1] if len(cells) > 1 else ""))
    key = block_key(domain_of_pattern(written)) if is_pattern(written) else clean_name(written)
    return Entry(number, key, written, _reason(cells[1] if len(cells) > 1 else ""))


def _mastodon_row(number: int, cells: list[str], header: list[str]) -> Entry:
    field = dict(zip(header, cells, strict=False))
    severity = field.get("#severity", "suspend").lower() or "suspend"
    if severity == "noop":
        raise _LeftOut("severity noop: Mastodon blocks nothing with it")
    if severity not in ("suspend", "silence", "limit"):
        raise ValueError(f"severity {severity[:20]!r}: one of suspend, silence, limit, noop")
    domain = field.get("#domain", "").removeprefix("*.")
    return Entry(number, block_key(clean_domain(domain)), field.get("#domain", ""),
                 _reason(field.get("#public_comment", "")))


def write_ours(rows: Iterable[tuple[str, str]]) -> str:
    """Our format: `block,reason`, one (name or domain as written, reason) a line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OURS)
    writer.writerows(rows)
    return out.getvalue()


def write_mastodon(rows: Iterable[tuple[str, str]]) -> str:
    """Mastodon's domain-block CSV of (domain, reason): each a `suspend`, its reason the public comment."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MASTODON)
    writer.writerows((domain, "suspend", "false", "false", reason, "false") for domain, reason in rows)
    return out.getvalue()
