"""Words a reader may take for operators that the parser takes as plain words (`or`, `NOT`, `and`).

The query is valid either way; the CLI's check-rule and the dashboard's rule editor warn about them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.query.errors import QuerySyntaxError
from app.query.lexer import lex

# The parser knows OR and AND, in capitals, and `-` for "not"; these words are matched as words.
_READS_LIKE = {"or": "write OR (in capitals)", "and": "write AND (in capitals), or nothing: terms side "
               "by side must all match", "not": "put - before the term to leave out, e.g. -spam"}


@dataclass(frozen=True, slots=True)
class PlainWord:
    """A word that reads like an operator: where it is and what to write instead."""

    text: str
    position: int
    advice: str

    @property
    def message(self) -> str:
        """The warning, for people."""
        return f"{self.text!r} at position {self.position} is a plain word here, not an operator; {self.advice}"


def plain_words(query: str) -> list[PlainWord]:
    """Each operator-like word the parser takes as a word, in order; none for a query that does not lex
    (its syntax error says more)."""
    try:
        lexemes = lex(query)
    except QuerySyntaxError:
        return []
    return [PlainWord(lexeme.text, lexeme.pos, _READS_LIKE[lexeme.text.lower()])
            for lexeme in lexemes if lexeme.kind == "TERM" and lexeme.text.lower() in _READS_LIKE]
