"""The recipes of docs/rule-language.md: each query is valid as `reposter check-rule` reads it (with
--scoped where the scope is a set of people), each scope parses, and each example post is reposted or
not as the recipe says (query and scope; filters, blocks and limits come later and are not shown)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.cli import main
from app.engine.scope import out_of_scope, parse_scope
from app.platforms.base import Post
from app.platforms.mock.world import World
from app.query import matches, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "rule-language.md"
FOLLOWER, STRANGER = "a_follower", "someone"
LANGUAGES = {"English": "en", "Italian": "it", "German": "de", "French": "fr", "Spanish": "es"}


@dataclass
class Example:
    reposted: bool
    text: str
    notes: list[str]


@dataclass
class Recipe:
    title: str
    query: str | None = None
    scope: str | None = None
    examples: list[Example] = field(default_factory=list)


def recipes() -> list[Recipe]:
    """The `### ` sections of the doc's `## Recipes`, read from their `- query:`, `- scope:`,
    `- reposted:` and `- not reposted:` lines."""
    text = DOC.read_text()
    section = text.split("\n## Recipes\n", 1)[1].split("\n## ", 1)[0]
    found = []
    for block in section.split("\n### ")[1:]:
        recipe = Recipe(title=block.splitlines()[0])
        for line in block.splitlines():
            _read_line(recipe, line)
        found.append(recipe)
    return found


def _read_line(recipe: Recipe, line: str) -> None:
    if match := re.fullmatch(r"- query: (?:`(.*)`|none\b.*)", line):
        recipe.query = match.group(1) or ""
    elif match := re.fullmatch(r"- scope: `(.*)`", line):
        recipe.scope = match.group(1)
    elif match := re.fullmatch(r"- (reposted|not reposted): `([^`]*)`(.*)", line):
        # "— by a follower, a reply (why)": notes after the dash; the parenthesis is for the reader
        notes = re.sub(r"\(.*\)", "", match.group(3)).strip().removeprefix("—").strip()
        recipe.examples.append(Example(match.group(1) == "reposted", match.group(2),
                                       [n.strip() for n in notes.split(",") if n.strip()]))
    else:
        assert not re.match(r"- (query|scope|reposted|not reposted)\b", line), f"unreadable recipe line: {line}"


def example_post(example: Example) -> Post:
    """The example as the mock platform would deliver it (tags, mentions and links read from the text)."""
    world, author, fields = World("recipes"), STRANGER, {}
    for note in example.notes:
        if note in ("by a follower", "by someone who does not follow"):
            author = FOLLOWER if note == "by a follower" else STRANGER
        elif match := re.fullmatch(r"by @(\w+)", note):
            author = match.group(1)
        elif match := re.fullmatch(r"by an author with (\d+) followers", note):
            world.add_author(author, followers_count=int(match.group(1)))
        elif note in ("a reply", "a repost"):
            fields["is_reply" if note == "a reply" else "is_repost"] = True
        elif note == "with a photo":
            fields["media_count"] = 1
        elif note.startswith("in ") and note[3:] in LANGUAGES:
            fields["lang"] = LANGUAGES[note[3:]]
        else:
            assert note == "language unknown", f"a note this test does not know: {note!r}"
    return world.publish(author, example.text, **fields)


RECIPES = recipes()


def test_the_doc_has_a_recipe_for_each_common_rule():
    assert 8 <= len(RECIPES) <= 12
    for recipe in RECIPES:
        assert recipe.query is not None and recipe.scope is not None, recipe.title
        assert {e.reposted for e in recipe.examples} == {True, False}, f"{recipe.title}: give both kinds of example"


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.title for r in RECIPES])
def test_the_recipe_is_valid_as_check_rule_reads_it(recipe, capsys):
    scope = parse_scope(recipe.scope)
    main(["check-rule", *(["--scoped"] if scope.is_set else []), "--", recipe.query])
    out, err = capsys.readouterr()
    assert out.startswith("valid:") and err == "", (out, err)  # no warning either


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.title for r in RECIPES])
def test_the_recipes_examples_are_reposted_or_not_as_it_says(recipe):
    scope = parse_scope(recipe.scope)
    node = parse(recipe.query, scoped=scope.is_set)
    # the account's people, as the platform would give them; a list recipe's members would go here too
    relations = {"followers": {FOLLOWER}, "following": {FOLLOWER}}
    for example in recipe.examples:
        post = example_post(example)
        reposted = matches(node, post) and out_of_scope(scope, post, relations) is None
        assert reposted == example.reposted, f"{recipe.title}: {example}"
