"""Which stop word a mention of the account says, if any ("stop" by mention). Pure.

The words are read as whole words or hashtags, case-insensitive: "@bot stop", "STOP please" and
"#nobot" say one; "stopping by", "nonstop" and "non-stop" do not. Mentions (`@someone`,
`@someone@instance`) and links are not words: "@stop" names a person, "https://x.example/stop" a
page. A plain word is said by its hashtag too (`#stop` says `stop`); a hashtag only by itself
(`#nobot`, not the bare word "nobot").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOT_WORDS = re.compile(r"\S*://\S*|(?<![\w#])@[\w.-]+(?:@[\w.-]+)?")
_TOKEN = re.compile(r"#?[\w-]+")


def said_words(text: str) -> set[str]:
    """The words and hashtags of `text`, folded, with mentions and links taken out."""
    cleaned = _NOT_WORDS.sub(" ", text)
    tokens = {token.casefold().strip("-") for token in _TOKEN.findall(cleaned)}
    return {t for t in tokens if t and t != "#"} | {t[1:] for t in tokens if t.startswith("#") and len(t) > 1}


def stop_word_in(text: str, words: Iterable[str]) -> str | None:
    """The first of `words` that `text` says, or None."""
    said = said_words(text)
    hashtags = {t for t in said if t.startswith("#")}
    for word in words:
        folded = word.strip().casefold()
        if folded and (folded in hashtags if folded.startswith("#") else folded in said):
            return word
    return None
