"""A query checked for the rule editor: the API's validation (service.validated), the words that read
like operators but are plain words, and the fault cut out of the query so a page can mark it."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.errors import Invalid
from app.query.warnings import PlainWord, plain_words
from app.rules import service

# a fault at one of these marks that character alone; elsewhere it marks the rest of the term
_SINGLE = '()"\u201c\u201d\u201e-'
_TERM_END = '()"\u201c\u201d\u201e'


@dataclass(frozen=True)
class QueryCheck:
    """What the editor shows under the query: valid (and how it reads), or the fault and where it is."""

    query: str
    normalized: str | None = None
    message: str | None = None
    position: int | None = None
    where: str = "query"  # the field at fault: query or scope
    warnings: list[PlainWord] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.message is None

    @property
    def marked(self) -> tuple[str, str, str] | None:
        """(before, fault, after) of the query, when the fault has a position in it."""
        if self.position is None or self.where != "query":
            return None
        # whitespace shown as single spaces, so the caret line under it lines up
        return split_at_fault("".join(" " if c.isspace() else c for c in self.query), self.position)


def split_at_fault(query: str, position: int) -> tuple[str, str, str]:
    """The query in three parts around the fault at `position`: the term there, or the one character;
    past the end, a blank stands for what is missing."""
    if position >= len(query):
        return query, " ", ""
    end = position + 1
    if query[position] not in _SINGLE and not query[position].isspace():
        while end < len(query) and not query[end].isspace() and query[end] not in _TERM_END:
            end += 1
    return query[:position], query[position:end], query[end:]


def check(query: str, scope: str) -> QueryCheck:
    """The query and scope checked as saving a rule checks them (no database: names are not resolved)."""
    try:
        result = service.validated(query, scope)
    except Invalid as exc:  # the scope: its message names what is wrong with it
        detail = exc.detail if isinstance(exc.detail, dict) else {"message": str(exc.detail)}
        return QueryCheck(query, message=str(detail.get("message")), where="scope")
    if result.error is not None:
        return QueryCheck(query, message=result.error.message, position=result.error.position,
                          warnings=plain_words(query))
    return QueryCheck(query, normalized=result.normalized, warnings=plain_words(query))
