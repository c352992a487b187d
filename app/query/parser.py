"""The recursive-descent parser: query text -> syntax tree, or QuerySyntaxError with a position.

Grammar (AND, explicit or implicit, binds tighter than OR):

    query   := or_expr END
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := "-" atom | atom
    atom    := "(" or_expr ")" | PHRASE | TERM
"""

from __future__ import annotations

from app.query.errors import QuerySyntaxError
from app.query.lexer import Lexeme, lex
from app.query.nodes import And, MatchAll, Node, Not, Or, has_anchor, leaves
from app.query.normalize import normalize
from app.query.terms import term_node, words_node

MAX_DEPTH = 32
_STANDALONE = 'a positive word, "phrase", #tag, @mention, from:, to: or url:'


def parse(query: str, *, scoped: bool = False) -> Node:
    """Parse a query; `scoped` (the rule names its people) allows empty and narrowing-only queries."""
    lexemes = lex(query)
    if lexemes[0].kind == "END":
        if scoped:
            return MatchAll()
        raise QuerySyntaxError(f"the query is empty; add {_STANDALONE}", 0)
    node = _Parser(lexemes).parse()
    if not scoped:
        require_anchor(node)
    return node


class _Parser:
    """One pass over the lexemes; `self.i` is the index of the next lexeme."""

    def __init__(self, lexemes: list[Lexeme]):
        self.lexemes = lexemes
        self.i = 0

    def peek(self) -> Lexeme:
        return self.lexemes[self.i]

    def take(self) -> Lexeme:
        self.i += 1
        return self.lexemes[self.i - 1]

    def parse(self) -> Node:
        node = self.or_expr(0)
        extra = self.peek()
        if extra.kind == ")":
            raise QuerySyntaxError("unmatched ')'", extra.pos)
        return node

    def or_expr(self, depth: int) -> Node:
        alternatives = [self.and_expr(depth)]
        while self.peek().kind == "OR":
            keyword = self.take()
            if self.peek().kind in ("END", ")", "OR", "AND"):
                raise QuerySyntaxError("OR needs a term on both sides", keyword.pos)
            alternatives.append(self.and_expr(depth))
        return _join(Or, alternatives)

    def and_expr(self, depth: int) -> Node:
        items: list[Node] = []
        while (lexeme := self.peek()).kind not in ("END", ")", "OR"):
            if lexeme.kind == "AND":
                self.take()
                if not items or self.peek().kind in ("END", ")", "OR", "AND"):
                    raise QuerySyntaxError("AND needs a term on both sides", lexeme.pos)
                continue
            items.append(self.unary(depth))
        if not items:
            self.fail_empty(self.peek())
        return _join(And, items)

    def fail_empty(self, lexeme: Lexeme) -> None:
        if lexeme.kind == "OR":
            raise QuerySyntaxError("OR needs a term on both sides", lexeme.pos)
        if lexeme.kind == ")":
            raise QuerySyntaxError("unmatched ')'", lexeme.pos)
        raise QuerySyntaxError("a term is missing", lexeme.pos)

    def unary(self, depth: int) -> Node:
        if self.peek().kind != "-":
            return self.atom(depth)
        minus = self.take()
        if self.peek().kind == "-":
            raise QuerySyntaxError("a term can be negated only once", self.peek().pos)
        if self.peek().kind not in ("(", "PHRASE", "TERM"):
            raise QuerySyntaxError("'-' must be followed directly by a term or a group", minus.pos)
        child = self.atom(depth)
        return child.child if isinstance(child, Not) else Not(child, minus.pos)

    def atom(self, depth: int) -> Node:
        lexeme = self.take()
        if lexeme.kind == "PHRASE":
            return words_node(lexeme.text, lexeme.pos, "the phrase")
        if lexeme.kind == "TERM":
            return term_node(lexeme.text, lexeme.pos)
        if lexeme.kind != "(":
            raise QuerySyntaxError(f"unexpected '{lexeme.text}'", lexeme.pos)
        return self.group(lexeme, depth + 1)

    def group(self, opening: Lexeme, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise QuerySyntaxError(f"groups nest at most {MAX_DEPTH} deep", opening.pos)
        if self.peek().kind == ")":
            raise QuerySyntaxError("empty group '()'", opening.pos)
        inner = self.or_expr(depth)
        if self.take().kind != ")":
            raise QuerySyntaxError("unclosed '('", opening.pos)
        return inner


def _join(kind: type[And] | type[Or], items: list[Node]) -> Node:
    """One node, or an And/Or of the items with nested ones of the same kind flattened."""
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:
        flat.extend(item.children if isinstance(item, kind) else (item,))
    return kind(tuple(flat), items[0].pos)


def require_anchor(node: Node) -> None:
    """Refuse a query whose matching does not need a positive stand-alone term on every path."""
    if has_anchor(node):
        return
    culprit, in_or = node, False
    while isinstance(culprit, Or):
        culprit = next(alt for alt in culprit.children if not has_anchor(alt))
        in_or = True
    if in_or:
        raise QuerySyntaxError(
            f"the side of OR '{normalize(culprit)}' would match nearly every post; give it {_STANDALONE}",
            culprit.pos,
        )
    if all(negated for _, negated in leaves(culprit)):
        raise QuerySyntaxError(f"every term is negated; add {_STANDALONE}", culprit.pos)
    raise QuerySyntaxError(f"lang:, is:, has:, label: and followers_count: only narrow; add {_STANDALONE}", culprit.pos)


def validate(query: str, *, scoped: bool = False) -> str:
    """The normalized query, or QuerySyntaxError when it is refused."""
    return normalize(parse(query, scoped=scoped))
