"""The rule language: parse a query, normalize it, match it against posts, explain the result.

Pure code: no database, no HTTP. See docs/rule-language.md for the language itself.
"""

from app.query.errors import QuerySyntaxError
from app.query.evaluate import Explanation, TermResult, explain, matches
from app.query.index import RuleIndex
from app.query.nodes import Node, positive_authors, positive_hashtags
from app.query.normalize import normalize
from app.query.parser import parse, validate
from app.query.prepared import PreparedPost, prepare
from app.query.tokens import tokenize

__all__ = [
    "Explanation",
    "Node",
    "PreparedPost",
    "QuerySyntaxError",
    "RuleIndex",
    "TermResult",
    "explain",
    "matches",
    "normalize",
    "parse",
    "positive_authors",
    "positive_hashtags",
    "prepare",
    "tokenize",
    "validate",
]
