"""A fake Mastodon instance behind httpx.MockTransport, answering as docs.joinmastodon.org says.

Server profiles (tests/platforms/specs/mastodon-servers.md) make it play servers that differ:
`version` (GET /api/v1/instance), `ignores_any` (a tag timeline answers with the first tag only),
`opaque_ids` (ids are a second plus a hash, not in time order), `delivery_order` (timelines list
statuses in the order they reached the server, whatever their ids), `followers_hidden` (the
followers endpoint lists nobody though the account reports followers) and `streaming` (False: the
streaming API answers 404), `lookup_on_request_host` (a bare name is looked up on the host the
request was sent to). `FakeMastodon.takahe()` is Takahē 0.11 as it was seen.

It keeps accounts, statuses, boosts, favourites, follows and lists in memory, pages timelines
with max_id / since_id / min_id and a Link header, streams server-sent events, registers OAuth
apps and exchanges codes. Every request and 2xx answer is kept, so that tests can check both
against the published OpenAPI document (`validate`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.platforms.faults import AfterActing
from tests.platforms.mastodon.fixtures import Fixtures
from tests.platforms.openapi_check import OpenAPIContract

BASE = "https://social.example"
TOKEN = "token-of-the-bot"


def _key(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)


@dataclass
class Exchange:
    """One request the adapter sent and what the fake answered."""

    request: httpx.Request
    status: int
    body: Any


@dataclass
class FakeMastodon(Fixtures):
    """The instance's state and its HTTP face."""

    token: str = TOKEN
    base: str = BASE  # where the fake says it lives (in Link headers)
    exchanges: list[Exchange] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)  # statuses kept out of the home timeline
    reblogs: dict[str, str] = field(default_factory=dict)  # original id -> our (first) boost's id
    # GoToSocial 0.16 makes a new boost for every reblog call, and its unreblog answer shows the
    # status as it was before (tests/platforms/specs/mastodon-servers.md); Mastodon does neither.
    boost_per_call: bool = False
    after_acting: AfterActing = field(default_factory=AfterActing)  # writes done, then the answer lost
    favourites: set[str] = field(default_factory=set)
    followers: list[str] = field(default_factory=list)  # account ids, newest follow first
    following: list[str] = field(default_factory=list)
    lists: dict[str, list[str]] = field(default_factory=dict)
    unquotable: set[str] = field(default_factory=set)
    idempotent: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> the status it made
    stream_events: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (client_id, challenge)
    # -- the server profile (see the module's docstring) --
    version: str = "4.3.0"
    ignores_any: bool = False
    opaque_ids: bool = False
    delivery_order: bool = False
    followers_hidden: bool = False
    streaming: bool = True
    arrival: dict[str, int] = field(default_factory=dict)  # status id -> the order it arrived in
    opaque_second: int = 1_764_489_600  # the second every opaque id starts with (a busy second)

    # The scopes the token was granted (a login replaces them with what the app asked for).
    token_scopes: str = "read write follow"
    # Server profiles (tests/platforms/specs/mastodon-servers.md); Mastodon 4.x leaves them all off.
    # Takahē and GoToSocial: POST /api/v1/apps takes `redirect_uris` as a string only (array: 400).
    redirect_uris_string_only: bool = False
    # Takahē: update_credentials sets `bot` only with the whole `write` scope (else 403).
    bot_flag_needs_write: bool = False
    # A JSON `"bot": true` answers 200 and leaves the flag off; the form value `bot=true` works.
    bot_flag_json_ignored: bool = False
    # Takahē 0.11: update_credentials has no `bot` parameter at all (the flag is the identity's actor
    # type, which no API or settings page changes): 200, flag off, JSON, form or multipart alike.
    bot_flag_ignored: bool = False
    # Takahē: a bare `acct` on /accounts/lookup is read on the host the request was sent to, so
    # an API reached at a host that is not the handles' domain answers 404 (seen at 127.0.0.1:18300).
    lookup_on_request_host: bool = False
    # Takahē: Link URLs keep only these query parameters (`types[]` is dropped from the notifications'
    # links, so a page reached through them lists every type); None keeps them all, as Mastodon does.
    link_keeps: tuple[str, ...] | None = None
    notices: list[dict[str, Any]] = field(default_factory=list)  # notifications that are not mentions
    budget_resets_at: datetime | None = None  # the account's 300 calls per 5 minutes are spent until then

    @classmethod
    def takahe(cls, **profile: Any) -> FakeMastodon:
        """Takahē 0.11 as seen: not semver, `any[]` ignored, no streaming API, `redirect_uris` a string
        only, update_credentials only with the whole `write` scope and then without a bot flag, bare
        names looked up on the request's host, Link URLs that keep only a few parameters (not `types[]`)."""
        return cls(**{"version": "takahe/0.11.0", "ignores_any": True, "streaming": False,
                      "redirect_uris_string_only": True, "bot_flag_needs_write": True,
                      "bot_flag_ignored": True, "lookup_on_request_host": True,
                      "link_keeps": ("limit", "local", "remote", "only_media", "account_id"), **profile})

    def make_id(self) -> str:
        if not self.opaque_ids:
            return super().make_id()
        # A second plus a hash (seen on a real server): equal seconds sort by the hash, not by time.
        n = len(self.arrival)
        return f"{self.opaque_second}{hashlib.sha1(str(n).encode()).hexdigest()[:8]}"

    def arrived(self, status_id: str) -> None:
        self.arrival.setdefault(status_id, len(self.arrival))

    def deliver_late(self, author: dict, text: str, before: str) -> dict[str, Any]:
        """A status made before `before` (an id, so it sorts below it) that reaches the server now."""
        return self.new_status(author, text, status_id=str(int(before) - 1))

    # -- the HTTP face ---------------------------------------------------------------------

    def client(self) -> httpx.AsyncClient:
        """An httpx client whose only server is this fake."""
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    async def asgi(self, scope: dict, receive: Callable, send: Callable) -> None:
        """The same fake as an ASGI app, to serve over a real socket (events are sent one by one)."""
        body = b""
        while (message := await receive()).get("more_body"):
            body += message.get("body", b"")
        body += message.get("body", b"")
        query = scope["query_string"].decode()
        url = f"{self.base}{scope['path']}" + (f"?{query}" if query else "")
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        response = self.handle(httpx.Request(scope["method"], url, headers=headers, content=body))
        raw = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
        chunks = response.content.split(b"\n\n") if b"event:" in response.content else [response.content]
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk + b"\n\n" * (len(chunks) > 1), "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (after any queued failure) and remember the exchange."""
        if self.failures:
            status, headers = self.failures.pop(0)
            message = {429: "Too many requests", 401: "The access token is invalid"}.get(status, "Unavailable")
            return self._reply(request, status, {"error": message}, headers)
        public = request.url.path in ("/api/v1/apps", "/oauth/token")
        if not public and self.budget_resets_at and self.budget_resets_at > datetime.now(UTC):
            headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": self.budget_resets_at.isoformat().replace("+00:00", "Z")}
            return self._reply(request, 429, {"error": "Too many requests"}, headers)
        if not public and request.headers.get("authorization") != f"Bearer {self.token}":
            return self._reply(request, 401, {"error": "The access token is invalid"})
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, request.url.path)
            if match and request.method == method:
                response = handler(request, *match.groups())
                if method != "GET" and not public and response.status_code < 400:
                    return self.after_acting.strike(request, response)
                return response
        return self._reply(request, 404, {"error": "Record not found"})

    def _reply(self, request: httpx.Request, status: int, body: Any, headers: dict | None = None) -> httpx.Response:
        self.exchanges.append(Exchange(request, status, body))
        return httpx.Response(status, json=body, headers=headers or {})

    def spend_budget(self, *, seconds: float = 300) -> None:
        """Use up the account's shared rate limit (docs.joinmastodon.org/api/rate-limits): every
        call answers 429 until it resets, whatever the endpoint."""
        self.budget_resets_at = datetime.now(UTC) + timedelta(seconds=seconds)

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        """The next `times` requests answer `status` with `headers`."""
        self.failures.extend([(status, headers or {})] * times)

    def validate(self, contract: OpenAPIContract) -> None:
        """Every request sent, and every 2xx JSON answer, fits the published API."""
        for ex in self.exchanges:
            contract.check_request(ex.request)
            if 200 <= ex.status < 300 and ex.body is not None:
                contract.check_response(ex.request.method, ex.request.url.path, ex.status, ex.body)

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        s = r"([^/]+)"
        return [
            ("GET", r"/api/v1/instance", self._instance),
            ("GET", r"/api/v1/timelines/home", self._home),
            ("GET", r"/api/v1/timelines/public", self._public),
            ("GET", rf"/api/v1/timelines/tag/{s}", self._tag),
            ("GET", rf"/api/v1/timelines/list/{s}", self._list_timeline),
            ("GET", r"/api/v1/notifications", self._notifications),
            ("GET", r"/api/v1/accounts/lookup", self._lookup),
            ("GET", r"/api/v1/accounts/verify_credentials", self._verify),
            ("PATCH", r"/api/v1/accounts/update_credentials", self._update_credentials),
            ("GET", rf"/api/v1/accounts/{s}", self._account),
            ("GET", rf"/api/v1/accounts/{s}/statuses", self._account_statuses),
            ("GET", rf"/api/v1/accounts/{s}/(followers|following)", self._follows),
            ("GET", rf"/api/v1/lists/{s}/accounts", self._list_accounts),
            ("GET", rf"/api/v1/statuses/{s}", self._get_status),
            ("GET", rf"/api/v1/statuses/{s}/context", self._context),
            ("DELETE", rf"/api/v1/statuses/{s}", self._delete_status),
            ("POST", r"/api/v1/statuses", self._create_status),
            ("POST", rf"/api/v1/statuses/{s}/(reblog|unreblog|favourite|unfavourite)", self._status_action),
            ("GET", r"/api/v1/streaming/(hashtag|user|public|public/local|list)", self._stream),
            ("POST", r"/api/v1/apps", self._create_app),
            ("POST", r"/oauth/token", self._token),
        ]

    # -- timelines --------------------------------------------------------------------------

    def _page(self, request: httpx.Request, items: list[dict], *, default: int = 20, cap: int = 40,
              render: Callable[[dict], dict] | None = None) -> httpx.Response:
        """Mastodon's id pagination: newest first; min_id pages forward from the cursor."""
        q = request.url.params
        limit = min(int(q.get("limit", default)), cap)
        key = self._order_key
        items = sorted(items, key=lambda s: key(s["id"]), reverse=True)
        if q.get("max_id"):
            items = [s for s in items if key(s["id"]) < key(q["max_id"])]
        if q.get("since_id"):
            items = [s for s in items if key(s["id"]) > key(q["since_id"])]
        if q.get("min_id"):
            items = [s for s in items if key(s["id"]) > key(q["min_id"])][-limit:]
        page = [(render or self.render)(s) for s in items[:limit]]
        headers = self._links(request, page[-1]["id"], page[0]["id"], older=len(page) == limit) if page else {}
        return self._reply(request, 200, page, headers)

    def _order_key(self, status_id: str) -> Any:
        """Where a status stands in the server's timelines: by id (Mastodon), or by arrival
        (a server whose ids are not in time order, or that lists in delivery order)."""
        if self.opaque_ids or self.delivery_order:
            return self.arrival.get(status_id, -1)
        return _key(status_id)

    def _instance(self, request: httpx.Request) -> httpx.Response:
        host = httpx.URL(self.base).host
        instance = {
            "uri": host, "title": "A fake instance", "short_description": "", "description": "",
            "email": f"admin@{host}", "version": self.version, "urls": {"streaming_api": f"wss://{host}"},
            "stats": {"user_count": len(self.accounts), "status_count": len(self.statuses), "domain_count": 1},
            "languages": ["en"], "registrations": False, "approval_required": False, "invites_enabled": False,
            "configuration": {
                "accounts": {"max_featured_tags": 10},
                "statuses": {"max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23},
                "media_attachments": {"supported_mime_types": ["image/png"], "image_size_limit": 10485760,
                                      "image_matrix_limit": 16777216, "video_size_limit": 41943040,
                                      "video_frame_rate_limit": 60, "video_matrix_limit": 2304000},
                "polls": {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                          "max_expiration": 2629746},
            },
            "rules": [],
        }
        return self._reply(request, 200, instance)

    def _links(self, request: httpx.Request, oldest: str, newest: str, *, older: bool) -> dict[str, str]:
        """Link: <…max_id=oldest>; rel="next" (when the page was full), <…min_id=newest>; rel="prev"."""
        keep = [(k, v) for k, v in request.url.params.multi_items() if k not in ("max_id", "min_id", "since_id")
                and (self.link_keeps is None or k in self.link_keeps)]
        base = f"{self.base}{request.url.path}"
        links = [f'<{httpx.URL(base, params=[*keep, ("min_id", newest)])}>; rel="prev"']
        if older:
            links.insert(0, f'<{httpx.URL(base, params=[*keep, ("max_id", oldest)])}>; rel="next"')
        return {"Link": ", ".join(links)}

    def _timeline(self) -> list[dict]:
        return [s for i, s in self.statuses.items() if i not in self.hidden]

    def _home(self, request: httpx.Request) -> httpx.Response:
        return self._page(request, self._timeline())

    def _public(self, request: httpx.Request) -> httpx.Response:
        return self._page(request, [s for s in self._timeline() if s["reblog"] is None])

    def _tag(self, request: httpx.Request, tag: str) -> httpx.Response:
        extra = [] if self.ignores_any else request.url.params.get_list("any[]")
        wanted = {tag.lower(), *(t.lower() for t in extra)}
        found = [s for s in self._timeline() if s["reblog"] is None and wanted & {t["name"].lower() for t in s["tags"]}]
        return self._page(request, found)

    def _list_timeline(self, request: httpx.Request, list_id: str) -> httpx.Response:
        if list_id not in self.lists:
            return self._reply(request, 404, {"error": "Record not found"})
        members = set(self.lists[list_id])
        return self._page(request, [s for s in self._timeline() if s["account"]["id"] in members])

    def _notifications(self, request: httpx.Request) -> httpx.Response:
        """GET /api/v1/notifications: only `mention`s are kept here, one per status that mentions the
        bot (its id is the status's: Mastodon's notification ids are their own, as opaque)."""
        types = request.url.params.get_list("types[]")
        mine = [s for s in self._timeline() if s["account"]["id"] != self.me["id"]
                and any(m["id"] == self.me["id"] for m in s["mentions"])]
        found = mine if not types or "mention" in types else []
        found += [n for n in self.notices if not types or n["type"] in types]
        return self._page(request, found, default=40, cap=40 if self.link_keeps else 80, render=self._mention)

    def notice(self, kind: str, account: dict, status: dict | None = None) -> dict:
        """A notification that is not a mention (`follow`; `favourite` or `reblog` of `status`, one of
        ours), from `account`."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        made = {"id": self.make_id(), "type": kind, "group_key": f"ungrouped-{len(self.notices)}",
                "created_at": now, "account": account, **({"status": self.render(status)} if status else {})}
        self.notices.append(made)
        return made

    def _mention(self, status: dict) -> dict:
        """A Notification of type `mention` for `status` (one that is not a mention as it is)."""
        if "type" in status:
            return status
        return {"id": status["id"], "type": "mention", "group_key": f"ungrouped-{status['id']}",
                "created_at": status["created_at"], "account": status["account"], "status": self.render(status)}

    def _account_statuses(self, request: httpx.Request, account_id: str) -> httpx.Response:
        if account_id not in self.accounts:
            return self._reply(request, 404, {"error": "Record not found"})
        return self._page(request, [s for s in self.statuses.values() if s["account"]["id"] == account_id])

    # -- accounts ---------------------------------------------------------------------------

    def _lookup(self, request: httpx.Request) -> httpx.Response:
        acct = request.url.params["acct"].lower().removeprefix("@")
        if self.lookup_on_request_host and "@" not in acct and request.url.host != self.local_domain():
            return httpx.Response(404, text="<h1>Not Found</h1>", headers={"content-type": "text/html"})
        for account in self.accounts.values():
            if self.same_acct(account, acct):
                return self._reply(request, 200, account)
        return self._reply(request, 404, {"error": "Record not found"})

    def _account(self, request: httpx.Request, account_id: str) -> httpx.Response:
        if account_id in self.accounts:
            return self._reply(request, 200, self.accounts[account_id])
        return self._reply(request, 404, {"error": "Record not found"})

    def _verify(self, request: httpx.Request) -> httpx.Response:
        return self._reply(request, 200, self.credential_account())

    def _update_credentials(self, request: httpx.Request) -> httpx.Response:
        form = "application/x-www-form-urlencoded" in request.headers.get("content-type", "")
        if form:
            body: dict[str, Any] = dict(httpx.QueryParams(request.content.decode()).multi_items())
        else:
            body = json.loads(request.content or b"{}")
        if "bot" in body and self.bot_flag_needs_write and "write" not in self.token_scopes.split():
            return self._reply(request, 403, {"error": "This action is outside the authorized scopes"})
        if "bot" in body and not self.bot_flag_ignored and not (self.bot_flag_json_ignored and not form):
            # Rails reads the form's "true"/"1" as true, as JSON's true.
            self.me["bot"] = body["bot"] in (True, "true", "1", "True")
        return self._reply(request, 200, self.credential_account())

    def _follows(self, request: httpx.Request, account_id: str, kind: str) -> httpx.Response:
        ids = self.following if kind == "following" else [] if self.followers_hidden else self.followers
        return self._account_page(request, ids)

    def _list_accounts(self, request: httpx.Request, list_id: str) -> httpx.Response:
        if list_id not in self.lists:
            return self._reply(request, 404, {"error": "Record not found"})
        return self._account_page(request, self.lists[list_id])

    def _account_page(self, request: httpx.Request, ids: list[str]) -> httpx.Response:
        """Account lists page by the follow's own id (internal), given only through Link."""
        rows = [{"id": str(1000 - n), "account": self.accounts[i]} for n, i in enumerate(ids)]
        q = request.url.params
        if q.get("max_id"):
            rows = [r for r in rows if int(r["id"]) < int(q["max_id"])]
        page = rows[: min(int(q.get("limit", 40)), 80)]
        headers = self._links(request, page[-1]["id"], page[0]["id"], older=len(page) < len(rows)) if page else {}
        return self._reply(request, 200, [r["account"] for r in page], headers)

    # -- statuses ---------------------------------------------------------------------------

    def _find(self, request: httpx.Request, status_id: str) -> dict | httpx.Response:
        if status_id not in self.statuses:
            return self._reply(request, 404, {"error": "Record not found"})
        return self.statuses[status_id]

    def _get_status(self, request: httpx.Request, status_id: str) -> httpx.Response:
        found = self._find(request, status_id)
        return found if isinstance(found, httpx.Response) else self._reply(request, 200, self.render(found))

    def _delete_status(self, request: httpx.Request, status_id: str) -> httpx.Response:
        found = self._find(request, status_id)
        if isinstance(found, httpx.Response):
            return found
        del self.statuses[status_id]
        return self._reply(request, 200, self.render(found))

    def _create_status(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        quoted, parent = body.get("quoted_status_id"), body.get("in_reply_to_id")
        if quoted and (quoted not in self.statuses or quoted in self.unquotable):
            return self._reply(request, 404, {"error": "The post you are trying to quote could not be found"})
        if parent and parent not in self.statuses:  # Mastodon's statuses.errors.in_reply_not_found
            return self._reply(request, 404, {"error": "The post you are trying to reply to does not appear to exist."})
        key = request.headers.get("idempotency-key")
        if key and key in self.idempotent:  # Mastodon: the same key within an hour answers the same status
            return self._reply(request, 200, self.render(self.statuses[self.idempotent[key]]))
        status = self.new_status(self.me, body["status"], quote_of=quoted, reply_to=parent,
                                 visibility=body.get("visibility") or "public")
        if key:
            self.idempotent[key] = status["id"]
        return self._reply(request, 200, self.render(status))

    def _context(self, request: httpx.Request, status_id: str) -> httpx.Response:
        """The thread around a status: its parents, oldest first, and every reply below it, depth first."""
        found = self._find(request, status_id)
        if isinstance(found, httpx.Response):
            return found
        ancestors, parent = [], found.get("in_reply_to_id")
        while parent in self.statuses:
            ancestors.insert(0, self.render(self.statuses[parent]))
            parent = self.statuses[parent].get("in_reply_to_id")

        def below(sid: str) -> list[dict]:
            children = [s for s in self.statuses.values() if s.get("in_reply_to_id") == sid]
            return [item for c in sorted(children, key=lambda c: _key(c["id"]))
                    for item in (self.render(c), *below(c["id"]))]

        return self._reply(request, 200, {"ancestors": ancestors, "descendants": below(status_id)})

    def _status_action(self, request: httpx.Request, status_id: str, verb: str) -> httpx.Response:
        found = self._find(request, status_id)
        if isinstance(found, httpx.Response):
            return found
        original = found["reblog"] or found
        if verb == "reblog":
            if original["id"] not in self.reblogs or self.boost_per_call:
                boost = self.new_status(self.me, "", reblog_of=original["id"])
                self.hidden.add(boost["id"])
                self.reblogs.setdefault(original["id"], boost["id"])
                return self._reply(request, 200, self.render(boost))
            return self._reply(request, 200, self.render(self.statuses[self.reblogs[original["id"]]]))
        if verb == "unreblog":
            before = self.render(original)
            self._unboost_one(original["id"])
            if self.boost_per_call:
                return self._reply(request, 200, before)
        elif verb == "favourite":
            self.favourites.add(original["id"])
        else:
            self.favourites.discard(original["id"])
        return self._reply(request, 200, self.render(original))

    def boosts_of(self, status_id: str) -> list[str]:
        """Our boosts of a status (GoToSocial may hold several)."""
        mine = [s for s in self.statuses.values() if s["account"]["id"] == self.me["id"] and s["reblog"]]
        return [s["id"] for s in mine if s["reblog"]["id"] == status_id]

    def _unboost_one(self, status_id: str) -> None:
        """Remove one of our boosts of a status (the one `reblogs` names first)."""
        boost = self.reblogs.pop(status_id, None)
        self.statuses.pop(boost or "", None)
        left = self.boosts_of(status_id)
        if left:
            self.reblogs[status_id] = left[0]

    def render(self, status: dict) -> dict:
        """A status as this account sees it (its own `reblogged` and `favourited`)."""
        shown = dict(status)
        shown["reblogged"] = status["id"] in self.reblogs
        shown["favourited"] = status["id"] in self.favourites
        if status["reblog"] is not None:
            shown["reblog"] = self.render(self.statuses.get(status["reblog"]["id"], status["reblog"]))
        return shown

    # -- streaming and OAuth ----------------------------------------------------------------

    def push_event(self, stream: str, event: str, data: Any) -> None:
        """Queue an event for the stream `hashtag:coffee`, `user`, `public`, `list:7`."""
        payload = data if isinstance(data, str) else json.dumps(data)
        self.stream_events.setdefault(stream, []).append((event, payload))

    def _stream(self, request: httpx.Request, kind: str) -> httpx.Response:
        if not self.streaming:
            return self._reply(request, 404, {"error": "Not Found"})
        q = request.url.params
        name = {"hashtag": f"hashtag:{q.get('tag', '')}", "list": f"list:{q.get('list', '')}"}.get(kind, kind)
        lines = [":)\n"]
        for event, data in self.stream_events.get(name, []):
            lines.append(f"event: {event}\ndata: {data}\n\n")
            lines.append(":thump\n")
        self.exchanges.append(Exchange(request, 200, None))
        return httpx.Response(200, content="".join(lines).encode(), headers={"content-type": "text/event-stream"})

    def _create_app(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        uris = body["redirect_uris"]
        if isinstance(uris, list) and self.redirect_uris_string_only:
            return self._reply(request, 400, {"error": "redirect_uris must be a string"})
        uris = uris if isinstance(uris, list) else uris.split()
        n = len(self.apps) + 1
        app = {
            "id": str(n),
            "name": body["client_name"],
            "website": body.get("website"),
            "scopes": body.get("scopes", "read").split(),
            "redirect_uri": "\n".join(uris),
            "redirect_uris": uris,
            "client_id": f"client-{n}",
            "client_secret": f"secret-{n}",
            "client_secret_expires_at": 0,
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
        }
        self.apps[app["client_id"]] = app
        return self._reply(request, 200, app)

    def authorize(self, authorize_url: str, code: str = "the-code") -> str:
        """What the owner's approval in the browser does: issue `code` for the app's client_id."""
        q = httpx.URL(authorize_url).params
        self.codes[code] = (q["client_id"], q.get("code_challenge", ""))
        return code

    def _token(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        app = self.apps.get(body.get("client_id", ""))
        if app is None or app["client_secret"] != body.get("client_secret"):
            error = {"error": "invalid_client", "error_description": "Client authentication failed"}
            return self._reply(request, 401, error)
        client_id, challenge = self.codes.pop(body.get("code", ""), ("", ""))
        if client_id != app["client_id"] or not _pkce_ok(body.get("code_verifier", ""), challenge):
            error = {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"}
            return self._reply(request, 400, error)
        scope = self.token_scopes = " ".join(app["scopes"])
        token = {"access_token": self.token, "token_type": "Bearer", "scope": scope, "created_at": 1573979017}
        return self._reply(request, 200, token)


def _pkce_ok(verifier: str, challenge: str) -> bool:
    """RFC 7636 S256: the verifier hashes to the challenge (no challenge: nothing to check)."""
    if not challenge:
        return True
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge


def rate_limit_headers(seconds: int) -> dict[str, str]:
    """Mastodon's own 429 headers: no Retry-After, an ISO X-RateLimit-Reset."""
    reset = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
