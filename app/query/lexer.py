"""Splitting a query into lexemes: parentheses, OR/AND, `-`, quoted phrases and bare terms."""

from __future__ import annotations

from dataclasses import dataclass

from app.query.errors import QuerySyntaxError

MAX_QUERY_LENGTH = 2048

# Phones and word processors turn " into curly quotes; a pasted query keeps working.
_OPEN_QUOTES = '"\u201c\u201d\u201e'
_CLOSE_QUOTES = '"\u201c\u201d'
_TERM_END = '()"\u201c\u201d\u201e'


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One lexeme: kind is `(`, `)`, `OR`, `AND`, `-`, `PHRASE`, `TERM` or `END`."""

    kind: str
    text: str
    pos: int


def lex(query: str) -> list[Lexeme]:
    """The lexemes of a query, ending with an `END` lexeme."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"a query is at most {MAX_QUERY_LENGTH} characters", MAX_QUERY_LENGTH)
    out: list[Lexeme] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            out.append(Lexeme(char, char, i))
            i += 1
        elif char in _OPEN_QUOTES:
            i = _phrase(query, i, out)
        elif char == "-":
            i = _minus(query, i, out)
        else:
            i = _term(query, i, out)
    out.append(Lexeme("END", "", n))
    return out


def _phrase(query: str, start: int, out: list[Lexeme]) -> int:
    """A quoted phrase starting at `start`; returns the index after its closing quote."""
    end = start + 1
    while end < len(query) and query[end] not in _CLOSE_QUOTES:
        end += 1
    if end >= len(query):
        raise QuerySyntaxError("unclosed quote", start)
    out.append(Lexeme("PHRASE", query[start + 1 : end], start))
    return end + 1


def _minus(query: str, start: int, out: list[Lexeme]) -> int:
    """A `-` that negates what follows it directly."""
    after = query[start + 1] if start + 1 < len(query) else ""
    if not after or after.isspace() or after == ")":
        raise QuerySyntaxError("'-' must be followed directly by a term or a group", start)
    out.append(Lexeme("-", "-", start))
    return start + 1


def _term(query: str, start: int, out: list[Lexeme]) -> int:
    """A bare term up to the next space, parenthesis or quote."""
    end = start
    while end < len(query) and not query[end].isspace() and query[end] not in _TERM_END:
        end += 1
    text = query[start:end]
    kind = text if text in ("OR", "AND") else "TERM"
    out.append(Lexeme(kind, text, start))
    return end
