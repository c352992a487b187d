"""`reposter check-rule`: parse a query, print "valid" and its normalized form, or the fault under
its position; warn where a word that reads like an operator is a plain word to the parser."""

from __future__ import annotations

import argparse
import sys

from app.cli.parsing import USAGE, Subparsers, add_command


def plain_word_warnings(query: str) -> list[str]:
    """One warning per word the reader may take for an operator that the parser takes as a word."""
    from app.query.warnings import plain_words

    return [f"warning: {word.message}" for word in plain_words(query)]


def check_rule(args: argparse.Namespace) -> None:
    """Print `valid: <normalized>` (exit 0), or the query with the fault marked (exit 2)."""
    from app.query import QuerySyntaxError, normalize, parse

    query = " ".join(args.query)
    try:
        for warning in plain_word_warnings(query):
            print(warning, file=sys.stderr)
        print(f"valid: {normalize(parse(query, scoped=args.scoped))}")
    except QuerySyntaxError as exc:
        # the query with a caret under the fault says more than one line could
        print(f"{query}\n{' ' * exc.position}^ {exc.message} (position {exc.position})", file=sys.stderr)
        sys.exit(USAGE)


def query_first(argv: list[str]) -> list[str]:
    """check-rule's query may start with '-' (`-is:reply`): it goes after `--`, where argparse takes
    it for the query rather than an unknown option."""
    if argv[:1] != ["check-rule"] or "--" in argv:
        return argv
    flags = [arg for arg in argv[1:] if arg in ("--scoped", "-h", "--help")]
    return ["check-rule", *flags, "--", *(arg for arg in argv[1:] if arg not in flags)]


def add_commands(sub: Subparsers) -> None:
    """check-rule."""
    cmd = add_command(sub, "check-rule", check_rule, "check a rule query and print its normalized form",
                      "Quote the query for the shell: reposter check-rule '(espresso OR \"latte art\") -is:reply'. "
                      "A query may start with '-'. Prints `valid: ...`, or the query with ^ under the fault "
                      "and exit status 2. The language: docs/rule-language.md.")
    cmd.add_argument("query", nargs="+", help="the query (several arguments are joined with spaces)")
    cmd.add_argument("--scoped", action="store_true",
                     help="the rule's scope is a set of people (an empty or narrowing-only query is allowed)")
