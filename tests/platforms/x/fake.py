"""A fake X API v2 for tests: an httpx.MockTransport handler that answers as X documents.

It keeps users, posts, the account's retweets, follows, lists and the app's stream rules, and
checks tokens: user calls need the current access token, the stream and its rules the app's
bearer token, the token endpoint the client id (form or HTTP Basic). It answers only the fields
and expansions a request asks for, as X does, in one of two spellings: "post" (the OpenAPI
document 2.167: referenced_posts, includes.posts, post_count), whose answers are validated
against that document, or "tweet" (docs.x.com: referenced_tweets, includes.tweets, tweet_count).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.platforms.faults import AfterActing

ME_ID = "1000"
ME = "reposter_acct"
CLIENT_ID = "client-abc"
APP_TOKEN = "app-bearer-token"
FIRST_ID = 1_790_000_000_000_000_000
PEOPLE = {"2001": "coffee_lover", "2002": "alice", "2003": "bob", "2004": "carol", "2005": "dave"}

Route = tuple[str, re.Pattern[str], str, Callable[..., tuple[int, Any]]]


@dataclass
class Break:
    """A stream connection that sends `lines` and then fails with `failure` (a stall, a reset)."""

    lines: list[Any]
    failure: Exception


class _StreamBody(httpx.AsyncByteStream):
    """Newline-delimited JSON as X sends it (lines end in CRLF), optionally failing at the end."""

    def __init__(self, lines: list[str], failure: Exception | None) -> None:
        self.lines, self.failure = lines, failure

    async def __aiter__(self):
        for line in self.lines:
            yield f"{line}\r\n".encode()
        if self.failure is not None:
            raise self.failure


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """An error answer as X sends it (application/problem+json)."""
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status}
    return httpx.Response(status, headers={"content-type": "application/problem+json", **(headers or {})}, json=body)


class FakeX:
    """The fake server's state and its handler (pass the instance to httpx.MockTransport)."""

    def __init__(self, *, spelling: str = "post", page_size: int = 2, contract: Any = None) -> None:
        self.spelling, self.page_size, self.contract = spelling, page_size, contract
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.retweeted: set[str] = set()
        self.refuse_double_retweet = False  # X v2 answers 200 again; older behaviour was a 403
        self.retweeters: dict[str, list[str]] = {}
        self.followers: list[str] = []
        # A server profile: the followers endpoint lists nobody, though public_metrics counts them.
        self.followers_hidden = False
        self.following: list[str] = []
        self.lists: dict[str, list[str]] = {}
        self.rules: dict[str, dict[str, str]] = {}
        self.refused_rules: set[str] = set()
        # One entry per connection to the stream: its lines ("" is a keep-alive), a refusal
        # (status, headers), or a Break (lines, then the connection fails). None left: a 403.
        self.stream_connections: list[Any] = []
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.after_acting = AfterActing()  # writes done, then the answer lost (tests/platforms/faults.py)
        self.exhausted: dict[tuple[str, str], float] = {}  # (method, route) -> when its limit resets
        self.requests: list[httpx.Request] = []
        self.search_floor: int | None = None  # since_id below this: "older than 7 days"
        self.access_token, self.refresh_token, self.generation = "access-1", "refresh-1", 1
        self.auth_code: str | None = None
        self.auth_challenge: str | None = None
        # The scopes the owner approved on the authorize page (the URL's `scope`), which the
        # tokens carry; list members need `list.read` (403 without it, as X answers).
        self.auth_scopes = "tweet.read tweet.write users.read follows.read list.read offline.access"
        self._ids = FIRST_ID
        self.add_user(ME_ID, ME, followers=42)
        for uid, name in PEOPLE.items():
            self.add_user(uid, name, followers=321 if name == "coffee_lover" else 50)
        self.routes: list[Route] = [
            ("POST", re.compile(r"/2/oauth2/token"), "client", self._token),
            ("GET", re.compile(r"/2/users/me"), "user", self._me),
            ("GET", re.compile(r"/2/users/by/username/([^/]+)"), "user", self._by_username),
            ("GET", re.compile(r"/2/users/(\d+)"), "user", self._by_id),
            ("GET", re.compile(r"/2/tweets/search/recent"), "user", self._search),
            ("GET", re.compile(r"/2/tweets/search/stream/rules"), "app", self._get_rules),
            ("POST", re.compile(r"/2/tweets/search/stream/rules"), "app", self._post_rules),
            ("GET", re.compile(r"/2/tweets/search/stream"), "app", self._stream),
            ("GET", re.compile(r"/2/users/(\d+)/tweets"), "user", self._user_tweets),
            ("GET", re.compile(r"/2/users/(\d+)/timelines/reverse_chronological"), "user", self._home),
            ("GET", re.compile(r"/2/users/(\d+)/mentions"), "user", self._mentions),
            ("POST", re.compile(r"/2/users/(\d+)/retweets"), "user", self._retweet),
            ("DELETE", re.compile(r"/2/users/(\d+)/retweets/(\d+)"), "user", self._unretweet),
            ("POST", re.compile(r"/2/tweets"), "user", self._create),
            ("DELETE", re.compile(r"/2/tweets/(\d+)"), "user", self._delete),
            ("GET", re.compile(r"/2/tweets/(\d+)"), "user", self._get_tweet),
            ("GET", re.compile(r"/2/tweets/(\d+)/retweeted_by"), "user", self._retweeted_by),
            ("GET", re.compile(r"/2/users/(\d+)/(followers|following)"), "user", self._follows),
            ("GET", re.compile(r"/2/lists/(\d+)/members"), "user", self._members),
        ]

    # --- building the world -------------------------------------------------------------

    def add_user(self, uid: str, username: str, *, followers: int = 0) -> None:
        metrics = {"followers_count": followers, "following_count": 7, "listed_count": 1, "tweet_count": 99}
        self.users[uid] = {
            "id": uid,
            "username": username,
            "name": username.replace("_", " ").title(),
            "created_at": "2019-05-01T08:00:00.000Z",
            "description": f"I am {username}",
            "public_metrics": metrics,
        }

    def add_tweet(self, author_id: str, text: str, **extra: Any) -> str:
        """Publish a post; entities come from the text (#tags, @mentions) unless given."""
        self._ids += 1000
        tid = str(self._ids)
        entities = extra.pop("entities", None) or _entities(text)
        for mention in entities.get("mentions") or []:  # X gives the mentioned user's id with the username
            found = [uid for uid, u in self.users.items() if u["username"].lower() == mention["username"].lower()]
            mention.update({"id": found[0]} if found else {})
        self.tweets[tid] = {
            "id": tid,
            "text": text,
            "author_id": author_id,
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "lang": "en",
            "entities": entities,
            "edit_history_tweet_ids": [tid],
            **extra,
        }
        return tid

    def edit_tweet(self, tweet_id: str, text: str) -> str:
        """An edit, as X makes one: a new post id, and every version lists the whole history."""
        new_id = self.add_tweet(self.tweets[tweet_id]["author_id"], text)
        history = self.tweets[tweet_id]["edit_history_tweet_ids"] + [new_id]
        for tid in history:
            self.tweets[tid]["edit_history_tweet_ids"] = list(history)
        return new_id

    def user_id(self, username: str) -> str:
        return next(uid for uid, u in self.users.items() if u["username"] == username)

    # --- the handler --------------------------------------------------------------------

    def exhaust(self, method: str, path: str, *, seconds: float = 900) -> None:
        """Use up the rate limit of the endpoint `path` belongs to for `seconds` (X limits each
        endpoint on its own: the others keep answering)."""
        route = next(r for r in self.routes if r[0] == method and r[1].fullmatch(path))
        self.exhausted[(route[0], route[1].pattern)] = time.time() + seconds

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            status, headers = self.failures.pop(0)
            return problem(status, httpx.codes.get_reason_phrase(status), "injected failure", headers)
        for method, pattern, auth, handler in self.routes:
            match = pattern.fullmatch(request.url.path)
            if request.method == method and match:
                if not self._authorized(request, auth):
                    return problem(401, "Unauthorized", "Unauthorized")
                reset = self.exhausted.get((method, pattern.pattern), 0)
                if reset > time.time():  # as X answers an exhausted endpoint (epoch-second reset)
                    headers = {"x-rate-limit-limit": "50", "x-rate-limit-remaining": "0",
                               "x-rate-limit-reset": str(int(reset))}
                    return problem(429, "Too Many Requests", "Too Many Requests", headers)
                answer = handler(request, *match.groups())
                if isinstance(answer, httpx.Response):
                    return answer
                status, body = answer
                if self.contract is not None and self.spelling == "post" and status < 400 and auth != "client":
                    self.contract.check_response(request.method, request.url.path, status, body)
                response = httpx.Response(status, json=body)
                if request.method != "GET" and auth != "client" and status < 400:
                    return self.after_acting.strike(request, response)
                return response
        return problem(404, "Not Found", f"no route for {request.method} {request.url.path}")

    def _authorized(self, request: httpx.Request, auth: str) -> bool:
        header = request.headers.get("authorization", "")
        if auth == "user":
            return header == f"Bearer {self.access_token}"
        if auth == "app":
            return header == f"Bearer {APP_TOKEN}"
        form = parse_qs(request.content.decode())
        basic = header.removeprefix("Basic ")
        client = base64.b64decode(basic).decode().split(":")[0] if basic != header else form.get("client_id", [""])[0]
        return client == CLIENT_ID

    # --- rendering, as the request asked ------------------------------------------------

    def _asked(self, request: httpx.Request, name: str) -> set[str]:
        params = request.url.params
        values = params.get(name) or (params.get("post.fields") if name == "tweet.fields" else None) or ""
        return set(filter(None, values.split(",")))

    def _render_tweet(self, tweet: dict[str, Any], request: httpx.Request) -> dict[str, Any]:
        fields = self._asked(request, "tweet.fields") | {"id", "text", "edit_history_tweet_ids"}
        expansions = self._asked(request, "expansions")
        implied = {
            "author_id": "author_id",
            "referenced_tweets.id": "referenced_tweets",
            "referenced_posts": "referenced_tweets",
            "in_reply_to_user_id": "in_reply_to_user_id",
            "attachments.media_keys": "attachments",
        }
        fields |= {implied[e] for e in expansions if e in implied}
        fields |= {"referenced_tweets" for f in fields if f == "referenced_posts"}
        rendered = {k: v for k, v in tweet.items() if k in fields}
        return self._spell(rendered)

    def _render_user(self, user: dict[str, Any], request: httpx.Request | None) -> dict[str, Any]:
        fields = (self._asked(request, "user.fields") if request else set()) | {"id", "name", "username"}
        rendered = {k: v for k, v in user.items() if k in fields}
        if "public_metrics" in rendered and self.spelling == "post":
            metrics = dict(rendered["public_metrics"])
            metrics["post_count"] = metrics.pop("tweet_count")
            rendered["public_metrics"] = metrics
        return rendered

    def _spell(self, tweet: dict[str, Any]) -> dict[str, Any]:
        if self.spelling == "post":
            renames = {"referenced_tweets": "referenced_posts", "edit_history_tweet_ids": "edit_history_post_ids"}
            tweet = {renames.get(k, k): v for k, v in tweet.items()}
        return tweet

    def _includes(self, tweets: list[dict[str, Any]], request: httpx.Request) -> dict[str, Any]:
        expansions = self._asked(request, "expansions")
        user_ids: list[str] = []
        if "author_id" in expansions:
            user_ids += [t["author_id"] for t in tweets]
        if "in_reply_to_user_id" in expansions:
            user_ids += [t["in_reply_to_user_id"] for t in tweets if t.get("in_reply_to_user_id")]
        includes: dict[str, Any] = {}
        if user_ids:
            includes["users"] = [self._render_user(self.users[u], request) for u in dict.fromkeys(user_ids)]
        keys = [k for t in tweets for k in (t.get("attachments") or {}).get("media_keys", [])]
        if "attachments.media_keys" in expansions and keys:
            includes["media"] = [self.media[k] for k in keys]
        refs = [r["id"] for t in tweets for r in t.get("referenced_tweets", []) if r["id"] in self.tweets]
        if expansions & {"referenced_tweets.id", "referenced_posts"} and refs:
            key = "posts" if self.spelling == "post" else "tweets"
            includes[key] = [self._render_tweet(self.tweets[r], request) for r in dict.fromkeys(refs)]
        return includes

    def _page(self, items: list[Any], request: httpx.Request, token_param: str) -> tuple[list[Any], dict[str, Any]]:
        """One page of `items` after the request's token, and the meta X sends with it."""
        params = request.url.params
        start = int(params.get(token_param, "p0")[1:])
        size = min(int(params.get("max_results", 100)), self.page_size)
        page = items[start : start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if start + size < len(items):
            meta["next_token"] = f"p{start + size:015d}"
        return page, meta

    def _tweet_page(self, tweets: list[dict[str, Any]], request: httpx.Request, token_param: str) -> tuple[int, Any]:
        q = request.url.params
        since, until, start = q.get("since_id"), q.get("until_id"), q.get("start_time")
        newest_first = sorted(
            (t for t in tweets if (not since or int(t["id"]) > int(since)) and (not until or int(t["id"]) < int(until))
             and (not start or t["created_at"] >= start.replace("Z", ".000Z"))),
            key=lambda t: -int(t["id"]),
        )
        page, meta = self._page(newest_first, request, token_param)
        if not page:
            return 200, {"meta": {"result_count": 0}}
        meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        body = {"data": [self._render_tweet(t, request) for t in page], "meta": meta}
        if includes := self._includes(page, request):
            body["includes"] = includes
        return 200, body

    def _users_page(self, ids: list[str], request: httpx.Request) -> tuple[int, Any]:
        page, meta = self._page(ids, request, "pagination_token")
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._render_user(self.users[u], request) for u in page]
        return 200, body

    # --- endpoints ----------------------------------------------------------------------

    def _token(self, request: httpx.Request) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        grant = form.get("grant_type")
        if grant == "refresh_token" and form.get("refresh_token") == self.refresh_token:
            return 200, self._issue_tokens()
        if grant == "authorization_code" and form.get("code") == self.auth_code and self.auth_challenge:
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == self.auth_challenge:
                self.auth_code = None
                return 200, self._issue_tokens()
        return 400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}

    def _issue_tokens(self) -> dict[str, Any]:
        self.generation += 1
        self.access_token, self.refresh_token = f"access-{self.generation}", f"refresh-{self.generation}"
        return {
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": self.access_token,
            "scope": self.auth_scopes,
            "refresh_token": self.refresh_token,
        }

    def _me(self, request: httpx.Request) -> tuple[int, Any]:
        me = self._render_user(self.users[ME_ID], request)
        if "public_metrics" in me and not self.followers_hidden:  # the count agrees with the list
            me["public_metrics"] = {**me["public_metrics"], "followers_count": len(self.followers)}
        return 200, {"data": me}

    def _by_id(self, request: httpx.Request, uid: str) -> tuple[int, Any]:
        if uid in self.users:
            return 200, {"data": self._render_user(self.users[uid], request)}
        problem = {"value": uid, "detail": f"Could not find user with id: [{uid}].", "title": "Not Found Error",
                   "resource_type": "user", "parameter": "id", "resource_id": uid,
                   "type": "https://api.x.com/2/problems/resource-not-found"}
        return 200, {"errors": [problem]}

    def _by_username(self, request: httpx.Request, username: str) -> tuple[int, Any]:
        for user in self.users.values():
            if user["username"].lower() == username.lower():
                return 200, {"data": self._render_user(user, request)}
        detail = f"Could not find user with username: [{username}]."
        not_found = {
            "type": "https://api.x.com/2/problems/resource-not-found",
            "title": "Not Found Error",
            "detail": detail,
            "resource_type": "user",
            "parameter": "username",
            "value": username,
        }
        return 200, {"errors": [not_found]}

    def _search(self, request: httpx.Request) -> tuple[int, Any]:
        since = request.url.params.get("since_id")
        if since and self.search_floor and int(since) < self.search_floor:
            return 400, {
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            }
        query = request.url.params["query"]
        found = [t for t in self.tweets.values() if _matches(query, t, self.users)]
        return self._tweet_page(found, request, "next_token")

    def _user_tweets(self, request: httpx.Request, uid: str) -> tuple[int, Any]:
        return self._tweet_page([t for t in self.tweets.values() if t["author_id"] == uid], request, "pagination_token")

    def _mentions(self, request: httpx.Request, uid: str) -> tuple[int, Any]:
        """The posts by others whose entities mention `uid`."""
        mine = [t for t in self.tweets.values() if t["author_id"] != uid
                and any(m.get("id") == uid for m in (t.get("entities") or {}).get("mentions") or [])]
        return self._tweet_page(mine, request, "pagination_token")

    def _home(self, request: httpx.Request, uid: str) -> tuple[int, Any]:
        return self._tweet_page(list(self.tweets.values()), request, "pagination_token")

    def _retweet(self, request: httpx.Request, uid: str) -> tuple[int, Any]:
        tweet_id = json.loads(request.content)["tweet_id"]
        if uid != ME_ID:
            return 403, {"title": "Forbidden", "detail": "You are not permitted to perform this action."}
        if tweet_id not in self.tweets:
            return 404, {"title": "Not Found Error", "detail": f"Could not find post with id: [{tweet_id}]."}
        if tweet_id in self.retweeted and self.refuse_double_retweet:
            return 403, {
                "title": "Forbidden",
                "type": "about:blank",
                "status": 403,
                "detail": "You are not allowed to retweet the same Tweet more than once.",
            }
        self.retweeted.add(tweet_id)
        return 200, {"data": {"retweeted": True, "rest_id": tweet_id}}

    def _unretweet(self, request: httpx.Request, uid: str, tweet_id: str) -> tuple[int, Any]:
        self.retweeted.discard(tweet_id)
        return 200, {"data": {"retweeted": False}}

    def _create(self, request: httpx.Request) -> tuple[int, Any]:
        body = json.loads(request.content)
        extra: dict[str, Any] = (
            {"referenced_tweets": [{"type": "quoted", "id": body["quote_tweet_id"]}]}
            if "quote_tweet_id" in body
            else {}
        )
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if parent is not None:
            if parent not in self.tweets:  # as X answers a reply to a post that is gone
                return 403, {"title": "Forbidden", "type": "about:blank", "status": 403,
                             "detail": "You attempted to reply to a Tweet that is deleted or not visible to you."}
            extra = {"referenced_tweets": [{"type": "replied_to", "id": parent}],
                     "in_reply_to_user_id": self.tweets[parent]["author_id"]}
        tid = self.add_tweet(ME_ID, body.get("text", ""), **extra)
        return 201, {"data": self._spell({"id": tid, "text": body.get("text", ""), "edit_history_tweet_ids": [tid]})}

    def _delete(self, request: httpx.Request, tweet_id: str) -> tuple[int, Any]:
        if self.tweets.pop(tweet_id, None) is None:
            return 404, {"title": "Not Found Error", "detail": f"Could not find post with id: [{tweet_id}]."}
        return 200, {"data": {"deleted": True}}

    def _get_tweet(self, request: httpx.Request, tweet_id: str) -> tuple[int, Any]:
        """GET /2/tweets/:id; a deleted post is a 200 whose body holds only a Not Found error."""
        if tweet_id not in self.tweets:
            return 200, {"errors": [{"value": tweet_id, "detail": f"Could not find tweet with id: [{tweet_id}].",
                                     "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                                     "resource_id": tweet_id,
                                     "type": "https://api.x.com/2/problems/resource-not-found"}]}
        tweet = self.tweets[tweet_id]
        body: dict[str, Any] = {"data": self._render_tweet(tweet, request)}
        if includes := self._includes([tweet], request):
            body["includes"] = includes
        return 200, body

    def _retweeted_by(self, request: httpx.Request, tweet_id: str) -> tuple[int, Any]:
        ids = self.retweeters.get(tweet_id, []) + ([ME_ID] if tweet_id in self.retweeted else [])
        return self._users_page(ids, request)

    def _follows(self, request: httpx.Request, uid: str, which: str) -> tuple[int, Any]:
        if which == "followers":
            return self._users_page([] if self.followers_hidden else self.followers, request)
        return self._users_page(self.following, request)

    def _members(self, request: httpx.Request, list_id: str) -> tuple[int, Any] | httpx.Response:
        if "list.read" not in self.auth_scopes.split():
            return problem(403, "Forbidden", "The token is missing the scope list.read required by this endpoint")
        return self._users_page(self.lists.get(list_id, []), request)

    def _get_rules(self, request: httpx.Request) -> tuple[int, Any]:
        rules = list(self.rules.values())
        page, meta = self._page(rules, request, "pagination_token")
        body: dict[str, Any] = {"meta": {**meta, "sent": "2026-03-01T10:00:00.000Z"}}
        if page:
            body["data"] = page
        return 200, body

    def _post_rules(self, request: httpx.Request) -> tuple[int, Any]:
        body = json.loads(request.content)
        if "delete" in body:
            gone = [i for i in body["delete"].get("ids", []) if self.rules.pop(i, None)]
            summary = {"deleted": len(gone), "not_deleted": len(body["delete"].get("ids", [])) - len(gone)}
            return 200, {"meta": {"sent": "2026-03-01T10:00:00.000Z", "summary": summary}}
        created, errors = [], []
        for rule in body.get("add", []):
            if rule["value"] in self.refused_rules or rule["value"] in {r["value"] for r in self.rules.values()}:
                errors.append(
                    {
                        "value": rule["value"],
                        "title": "UnprocessableEntity",
                        "detail": "refused",
                        "type": "https://api.x.com/2/problems/invalid-rules",
                    }
                )
                continue
            self._ids += 1
            created.append({"id": str(self._ids), **rule})
            self.rules[str(self._ids)] = created[-1]
        summary = {"created": len(created), "not_created": len(errors), "valid": len(created), "invalid": len(errors)}
        answer: dict[str, Any] = {"meta": {"sent": "2026-03-01T10:00:00.000Z", "summary": summary}}
        if created:
            answer["data"] = created
        if errors:
            answer["errors"] = errors
        return 200, answer

    def _stream(self, request: httpx.Request) -> httpx.Response:
        script = self.stream_connections.pop(0) if self.stream_connections else (403, {})
        if isinstance(script, tuple):
            status, headers = script
            return problem(status, "ConnectionException", "The stream refused this connection.", headers)
        lines, failure = (script.lines, script.failure) if isinstance(script, Break) else (script, None)
        return httpx.Response(
            200, stream=_StreamBody([line if isinstance(line, str) else line() for line in lines], failure)
        )

    def stream_post(self, tweet_id: str, rule_values: list[str]) -> Callable[[], str]:
        """The stream line X would send for a post that matched the rules with `rule_values`
        (made when the stream is read, once the rules have their ids; docs.x.com spelling)."""

        def line() -> str:
            tweet = self.tweets[tweet_id]
            users = [self.users[tweet["author_id"]]] + (
                [self.users[tweet["in_reply_to_user_id"]]] if tweet.get("in_reply_to_user_id") else []
            )
            rules = [{"id": r["id"], "tag": r["tag"]} for r in self.rules.values() if r["value"] in rule_values]
            return json.dumps({"data": tweet, "includes": {"users": users}, "matching_rules": rules})

        return line


def _entities(text: str) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    tags = [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"#(\w+)", text)]
    mentions = [(m.start(), m.end(), m.group(1)) for m in re.finditer(r"@(\w+)", text)]
    if tags:
        entities["hashtags"] = [{"start": s, "end": e, "tag": t} for s, e, t in tags]
    if mentions:
        entities["mentions"] = [{"start": s, "end": e, "username": u} for s, e, u in mentions]
    return entities


def _matches(query: str, tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> bool:
    """X search, as far as tests need it: OR of ANDs over #tags, from: and words."""
    tags = {h["tag"].lower() for h in tweet.get("entities", {}).get("hashtags", [])}
    words = set(re.findall(r"\w+", tweet["text"].lower()))
    author = users[tweet["author_id"]]["username"].lower()

    def term(t: str) -> bool:
        t = t.lower().strip("()")
        if t.startswith("#"):
            return t[1:] in tags
        if t.startswith("from:"):
            return t[5:] == author
        return t in words

    return any(all(term(t) for t in branch.split()) for branch in query.split(" OR "))
