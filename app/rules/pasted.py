"""A post pasted into the rule editor, made into the normalized Post a platform would give: its
hashtags, mentions and links read from the text, as the platforms' own entities would list them."""

from __future__ import annotations

import re

from app.errors import Invalid
from app.platforms.base import Author, Post

_TAG = re.compile(r"(?<![\w#])#(\w+)")
_MENTION = re.compile(r"(?<![\w@])@([\w.\-]+(?:@[\w.\-]+)?\w)")
_LINK = re.compile(r"\bhttps?://\S+")
_YES = {"yes": True, "no": False, "": None}


def pasted_post(*, platform: str, text: str, handle: str, display_name: str = "", followers: str = "",
                lang: str = "", bio: str = "", reply: str = "") -> Post:
    """The Post for a pasted text and its author; 422 naming a field that is not what it should be."""
    handle = handle.strip().lstrip("@") or "someone"
    if reply not in _YES:
        raise Invalid("reply: yes, no or unknown (empty)")
    return Post(platform=platform, id="pasted", text=text, lang=lang.strip() or None,
                author=Author(id=handle, handle=handle, display_name=display_name.strip() or None,
                              followers_count=_count(followers), bio=bio or None),
                hashtags=_TAG.findall(text), mentions=_MENTION.findall(text), urls=_LINK.findall(text),
                is_reply=_YES[reply])


def _count(text: str) -> int | None:
    """A follower count as typed (`1200`, `1,200`), or None when left empty (unknown)."""
    digits = text.strip().replace(",", "").replace("_", "")
    if not digits:
        return None
    if not digits.isdigit() or len(digits) > 12:
        raise Invalid(f"followers: {text.strip()[:20]!r} is not a number of followers")
    return int(digits)
