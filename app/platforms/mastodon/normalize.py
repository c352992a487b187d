"""Mastodon's Status and Account entities, turned into the normalized Post and Author.

Field meanings follow docs.joinmastodon.org/entities/Status and /entities/Account. A field the
server did not send stays None (unknown); a field it sent as null means "no" where that is what
Mastodon means by it (`in_reply_to_id: null` is "not a reply", `quote: null` is "not a quote").
"""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from app.platforms.base import Author, Post

PLATFORM = "mastodon"
# Elements whose text Mastodon's own web interface hides: the "RE: <link>" paragraph the server
# prepends to quote posts for older clients.
_HIDDEN_CLASSES = {"quote-inline"}
_BLOCK_END = {"p", "li", "blockquote", "pre"}


class _ContentParser(HTMLParser):
    """Plain text and outgoing links of a status' HTML content (mentions and hashtags excluded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        if self._hidden_depth or classes & _HIDDEN_CLASSES:
            self._hidden_depth += tag not in {"br", "img"}
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag == "a" and values.get("href") and not classes & {"mention", "hashtag"}:
            rel = set((values.get("rel") or "").split())
            if "tag" not in rel:
                self.links.append(values["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._hidden_depth:
            self._hidden_depth -= 1
            return
        if tag in _BLOCK_END:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def parse_content(html: str | None) -> tuple[str, list[str]]:
    """The plain text of Mastodon HTML (paragraphs as blank lines) and the links it carries."""
    parser = _ContentParser()
    parser.feed(html or "")
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip(), parser.links


def html_to_text(html: str | None) -> str:
    """Strip Mastodon HTML (a status' content, an account's note) to plain text."""
    return parse_content(html)[0]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (Mastodon's `2019-12-08T03:48:33.901Z`) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def account_to_author(account: dict[str, Any]) -> Author:
    """An Account entity as an Author; `bio` is the note as plain text (for the #nobot opt-out)."""
    return Author(
        id=str(account["id"]),
        handle=account.get("acct") or account.get("username") or str(account["id"]),
        display_name=account.get("display_name") or None,
        avatar_url=account.get("avatar_static") or account.get("avatar") or None,
        followers_count=account.get("followers_count"),
        created_at=parse_time(account.get("created_at")),
        is_bot=account.get("bot"),
        bio=html_to_text(account["note"]) if "note" in account else None,
    )


def status_to_post(status: dict[str, Any]) -> Post:
    """A Status entity (as a timeline, a status lookup or the streaming API returns it) as a Post.

    A boost (`reblog` set) keeps its own id, so that cursors follow the timeline, and its
    booster as author; url, text, tags, mentions and links are the boosted status' own, and
    `ref["reblog_of_id"]` names it, so that acting on the boost acts on the original.
    """
    reblogged = status.get("reblog")
    shown = reblogged or status
    text, links = parse_content(shown.get("content"))
    post = Post(
        platform=PLATFORM,
        id=str(status["id"]),
        url=shown.get("url") or shown.get("uri"),
        author=account_to_author(status["account"]),
        text=text,
        lang=shown.get("language"),
        created_at=parse_time(status.get("created_at")),
        hashtags=[tag["name"].lower() for tag in shown.get("tags") or []],
        mentions=[m["acct"].lower() for m in shown.get("mentions") or []],
        mention_ids=[str(m["id"]) for m in shown.get("mentions") or [] if m.get("id") is not None],
        urls=_urls(links, shown.get("card")),
        media_count=len(shown["media_attachments"]) if "media_attachments" in shown else None,
        is_repost=reblogged is not None if "reblog" in status else None,
        reposted_author=account_to_author(reblogged["account"]) if reblogged and reblogged.get("account") else None,
        content_warning=(shown.get("spoiler_text") or "").strip() or None,
        sensitive=shown.get("sensitive") if isinstance(shown.get("sensitive"), bool) else None,
        ref={"reblog_of_id": str(reblogged["id"])} if reblogged else {},
    )
    _fill_reply(post, shown)
    _fill_quote(post, shown)
    return post


def _urls(links: list[str], card: dict[str, Any] | None) -> list[str]:
    """Links in the content, then the preview card's link if it is not among them."""
    urls = list(dict.fromkeys(links))
    if card and card.get("url") and card["url"] not in urls:
        urls.append(card["url"])
    return urls


def _fill_reply(post: Post, status: dict[str, Any]) -> None:
    """is_reply from in_reply_to_id; the replied-to handle when the status mentions that account."""
    if "in_reply_to_id" not in status:
        return
    post.is_reply = status["in_reply_to_id"] is not None
    target = status.get("in_reply_to_account_id")
    if not post.is_reply or target is None:
        return
    post.reply_to_author_id = str(target)
    if str(target) == str(status["account"]["id"]):
        post.reply_to_author = status["account"].get("acct")
        return
    for mention in status.get("mentions") or []:
        if str(mention.get("id")) == str(target):
            post.reply_to_author = mention.get("acct")


def _fill_quote(post: Post, status: dict[str, Any]) -> None:
    """Mastodon 4.5+ native quotes (`quote`: Quote or ShallowQuote). Older servers send no key."""
    if "quote" not in status:
        return
    quote = status["quote"]
    post.is_quote = quote is not None
    if quote:
        quoted = quote.get("quoted_status")
        post.quoted_post_id = str(quoted["id"]) if quoted else quote.get("quoted_status_id")
