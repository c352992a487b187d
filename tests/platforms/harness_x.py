"""The X harness: the fake X API (tests/platforms/x/fake.py) driven for the contract suite.

It runs the adapter in the OpenAPI document's own spelling (`field_names: post`), so that every
request and every answer can be checked against x-api-v2.openapi.json as published. The
docs.x.com spelling (tweet.fields, the adapter's default) is run by tests/platforms/x/.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import httpx

from app.platforms.base import AccountContext
from app.platforms.x.login import TOKEN_PATH
from app.platforms.x.platform import XPlatform
from tests.platforms.openapi_check import OpenAPIContract
from tests.platforms.x.fake import APP_TOKEN, CLIENT_ID, ME, ME_ID, FakeX

SPEC = "x-api-v2.openapi.json"
_accounts = itertools.count(9000)  # a fresh account id per harness: token renewal is keyed by it


class XHarness:
    name = "x"
    source = "tag:coffee"

    def __init__(self, spelling: str = "post") -> None:
        self.platform = XPlatform()
        self.contract = OpenAPIContract(SPEC)
        self.fake = FakeX(spelling=spelling, contract=self.contract)
        self.spelling = spelling
        self.requests = self.fake.requests
        self.account_id = next(_accounts)
        self.credentials_seen: list[dict[str, Any]] = []

    def context(self, **credentials: Any) -> AccountContext:
        creds = {
            "access_token": self.fake.access_token,
            "refresh_token": self.fake.refresh_token,
            "expires_at": int(time.time()) + 7200,
            "client_id": CLIENT_ID,
            "bearer_token": APP_TOKEN,
            **credentials,
        }
        return AccountContext(
            account_id=self.account_id,
            handle=ME,
            platform_user_id=ME_ID,
            config={"base_url": "https://api.x.com", "page_size": 2, "field_names": self.spelling},
            credentials=creds,
            on_credentials_changed=self.credentials_seen.append,
        )

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.fake))

    def add_post(self, kind: str, *, text: str = "hello #coffee world") -> str:
        fake, poster = self.fake, "2001"
        if kind == "plain":
            return fake.add_tweet(poster, text)
        if kind == "reply":
            original = fake.add_tweet("2003", "morning all")
            refs = [{"type": "replied_to", "id": original}]
            return fake.add_tweet(poster, f"@bob {text}", in_reply_to_user_id="2003", referenced_tweets=refs)
        if kind == "repost":
            original = fake.add_tweet("2004", text)
            return fake.add_tweet(
                poster, f"RT @carol: {text}", referenced_tweets=[{"type": "retweeted", "id": original}]
            )
        if kind == "quote":
            original = fake.add_tweet("2005", "an original thought")
            return fake.add_tweet(poster, text, referenced_tweets=[{"type": "quoted", "id": original}])
        if kind == "media_links":
            return self._media_post(text)
        raise ValueError(kind)

    def _media_post(self, text: str) -> str:
        key = f"3_{len(self.fake.media) + 1}"
        self.fake.media[key] = {"media_key": key, "type": "photo"}
        body = f"{text} https://t.co/abc https://t.co/pic"
        link, pic = body.index("https://t.co/abc"), body.index("https://t.co/pic")
        urls = [
            {
                "start": link,
                "end": link + 16,
                "url": "https://t.co/abc",
                "expanded_url": "https://example.com/page",
                "display_url": "example.com/page",
            },
            {
                "start": pic,
                "end": pic + 16,
                "url": "https://t.co/pic",
                "media_key": key,
                "expanded_url": "https://x.com/coffee_lover/status/1/photo/1",
                "display_url": "pic.x.com/pic",
            },
        ]
        entities = {**_tags(text), "urls": urls}
        return self.fake.add_tweet("2001", body, entities=entities, attachments={"media_keys": [key]})

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.fake.failures.extend([(status, headers or {})] * times)

    def delete_post(self, post_id: str) -> None:
        """The author deletes the post; X removes its retweets with it."""
        self.fake.tweets.pop(post_id, None)
        self.fake.retweeted.discard(post_id)

    def is_reposted(self, post_id: str) -> bool:
        return post_id in self.fake.retweeted

    def set_followers(self, handles: list[str]) -> None:
        for handle in handles:
            if not any(u["username"] == handle for u in self.fake.users.values()):
                self.fake.add_user(str(3000 + len(self.fake.users)), handle)
        self.fake.followers = [self.fake.user_id(h) for h in handles]

    def validate_requests(self) -> None:
        for request in self.requests:
            if request.url.path == TOKEN_PATH:
                check_token_request(request)
                continue
            documented = as_documented(self.contract, request)
            self.contract.check_request(documented)
            if self.spelling == "post":
                check_values(self.contract, documented)


def make_harness() -> XHarness:
    return XHarness()


def as_documented(contract: OpenAPIContract, request: httpx.Request) -> httpx.Request:
    """The request with tweet.fields named post.fields where the document (2.167) renamed it.

    docs.x.com documents tweet.fields on every endpoint; the OpenAPI document 2.167 calls it
    post.fields on search and timelines (and still tweet.fields on the streams).
    """
    template, op = contract.operation(request.method, request.url.path)
    names = {p["name"] for p in contract._params(template, op)}
    params = request.url.params
    if "tweet.fields" in params and "tweet.fields" not in names and "post.fields" in names:
        renamed = [("post.fields" if k == "tweet.fields" else k, v) for k, v in params.multi_items()]
        return httpx.Request(
            request.method, request.url.copy_with(params=renamed), headers=request.headers, content=request.content
        )
    return request


def check_values(contract: OpenAPIContract, request: httpx.Request) -> None:
    """Stricter than check_request: integer ranges, string lengths and patterns, array enums."""
    template, op = contract.operation(request.method, request.url.path)
    schemas = {p["name"]: p.get("schema", {}) for p in contract._params(template, op) if p.get("in") == "query"}
    for name, value in request.url.params.multi_items():
        schema = schemas[name]
        where = f"{request.method} {template} {name}={value!r}"
        if schema.get("type") == "integer":
            assert schema.get("minimum", -1e18) <= int(value) <= schema.get("maximum", 1e18), where
        elif schema.get("type") == "string":
            assert schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 1e9), where
            assert re.search(schema.get("pattern", ""), value), where
        elif schema.get("type") == "array" and "enum" in schema.get("items", {}):
            unknown = set(value.split(",")) - set(schema["items"]["enum"])
            assert not unknown, f"{where}: {unknown} not in the documented values"


def check_token_request(request: httpx.Request) -> None:
    """POST /2/oauth2/token (docs.x.com): a form with grant_type, and the client identified."""
    assert request.method == "POST"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form["grant_type"] in ("refresh_token", "authorization_code"), form
    assert "client_id" in form or request.headers.get("authorization", "").startswith("Basic ")
    if form["grant_type"] == "refresh_token":
        assert form.get("refresh_token")
    else:
        assert form.get("code") and form.get("code_verifier") and form.get("redirect_uri")


def _tags(text: str) -> dict[str, Any]:
    found = [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"#(\w+)", text)]
    return {"hashtags": [{"start": s, "end": e, "tag": t} for s, e, t in found]} if found else {}
