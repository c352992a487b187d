"""The contract suite's Bluesky: a small stateful PDS + AppView behind httpx.MockTransport.

Requests are checked against the AT Protocol lexicons (lexicon_check.py) by
validate_requests(); every answer is checked against its method's output schema before it
leaves, so the adapter is only ever fed documented shapes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.platforms.base import AccountContext
from app.platforms.bluesky.platform import BlueskyPlatform
from tests.platforms.faults import AfterActing
from tests.platforms.lexicon_check import lexicons

PDS = "https://pds.test"
PASSWORD = "abcd-efgh-ijkl-mnop"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
FACET = "app.bsky.richtext.facet"
BSKY_MODERATION = "did:plc:ar7c4by46qjdydhdevvrndac"  # the AppView's labeler when a request names none


def did_for(name: str) -> str:
    """A did:plc for a test user (24 base32 characters)."""
    return "did:plc:" + (re.sub(r"[^a-z2-7]", "", name.lower()) + "a" * 24)[:24]


def handle_for(name: str) -> str:
    """A bsky.social handle for a test user."""
    return f"{name}.bsky.social"


def fake_cid(data: Any) -> str:
    """A CIDv1-looking base32 string derived from the content."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")


_jti = itertools.count(1)


def fake_jwt(did: str, exp: float, scope: str = "com.atproto.appPass") -> str:
    """An unsigned JWT with the claims the adapter reads (exp); each one distinct."""

    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"sub": did, "exp": int(exp), "scope": scope, "jti": next(_jti)}
    return f"{enc({'typ': 'at+jwt', 'alg': 'ES256K'})}.{enc(claims)}.c2ln"


def iso(moment: datetime) -> str:
    """RFC 3339 with milliseconds and Z, as the AppView writes datetimes."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def facets_for(text: str) -> list[dict[str, Any]]:
    """Tag, mention and link facets for the #words, @names and https:// links of a text."""
    found = []
    for match in re.finditer(r"(?<!\S)([#@][\w.]+|https?://\S+)", text):
        token = match.group(1)
        start, end = len(text[: match.start(1)].encode()), len(text[: match.end(1)].encode())
        if token.startswith("#"):
            feature = {"$type": f"{FACET}#tag", "tag": token[1:]}
        elif token.startswith("@"):
            feature = {"$type": f"{FACET}#mention", "did": did_for(token[1:].split(".")[0])}
        else:
            feature = {"$type": f"{FACET}#link", "uri": token}
        found.append({"index": {"byteStart": start, "byteEnd": end}, "features": [feature]})
    return found


@dataclass
class Entry:
    """One feed entry: a post, or a repost of one (`by` + `reason_uri`)."""

    time: int
    key: str
    post_uri: str
    by: str | None = None


class FakeBluesky:
    """The server side: profiles, posts, feeds, the account's records, sessions, failures."""

    def __init__(self) -> None:
        self.me = did_for("reposterbot")
        self.clock = datetime.now(UTC)
        self.profiles: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.entries: list[Entry] = []
        self.records: dict[tuple[str, str], dict[str, Any]] = {}  # the account's repo
        self.followers: list[str] = []
        # A server profile: getFollowers lists nobody, though the account's profile counts followers.
        self.followers_hidden = False
        self.follows: list[str] = []
        self.list_members: set[str] = set()
        self.list_uri = f"at://{self.me}/app.bsky.graph.list/3kcurated2222"
        self.lists: dict[str, dict[str, Any]] = {}  # other lists by at-uri: name, purpose, creator, members
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.after_acting = AfterActing()  # writes done, then the answer lost (tests/platforms/faults.py)
        self.requests: list[httpx.Request] = []
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.expired: set[str] = set()  # tokens the server calls expired whatever their exp says
        self.logins = 0
        self.refreshes = 0
        # Labels by labeler services on posts (at-uri) and accounts (DID): the AppView adds to a view
        # those whose labeler the request's atproto-accept-labelers header names (absent: Bluesky's own).
        self.labels: list[dict[str, Any]] = []
        self.accepted: set[str] = {BSKY_MODERATION}
        # Server profiles for the bot self-label: a session not allowed to write the profile (an
        # OAuth session without that permission), and a server that keeps the record but not its labels.
        self.refuse_profile_writes = False
        self.drop_self_labels = False
        # Where each user's repository is hosted (their DID document's #atproto_pds endpoint), answered
        # at the PLC directory's `GET /{did}`; DIDs whose document lookup fails (500), and how many were asked
        self.pds_endpoints: dict[str, str] = {}
        self.plc_down: set[str] = set()
        self.plc_requests = 0
        self._tids = itertools.count(1)
        for name in ("reposterbot", "writer", "alice", "bob", "carol", "dave"):
            self.add_profile(name)

    # ---- state -------------------------------------------------------------------------
    def add_profile(self, name: str, **extra: Any) -> str:
        """A user with a profile; returns the DID."""
        did = did_for(name)
        self.profiles.setdefault(
            did,
            {
                "did": did,
                "handle": handle_for(name),
                "displayName": name.title(),
                "labels": [],
                "createdAt": "2023-05-01T10:00:00.000Z",
                "followersCount": 100 + len(name),
                "followsCount": 10,
                "postsCount": 5,
                "description": f"{name} on Bluesky",
                **extra,
            },
        )
        return did

    def tick(self, seconds: float = 1.0) -> datetime:
        """Advance the fake clock; each new record gets its own instant."""
        self.clock += timedelta(seconds=seconds)
        return self.clock

    def tid(self) -> str:
        """A fresh record key in TID form."""
        n, out = next(self._tids) + 10**12, ""
        while n:
            n, r = divmod(n, 32)
            out = TID_ALPHABET[r] + out
        return ("3l" + out.rjust(11, "2"))[:13]

    def session(self) -> dict[str, Any]:
        """A new access/refresh pair, remembered as valid."""
        access, refresh = (
            fake_jwt(self.me, time.time() + 7200),
            fake_jwt(self.me, time.time() + 86400 * 60, "com.atproto.refresh"),
        )
        self.access.add(access)
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.profiles[self.me]["handle"], "did": self.me}

    def publish(self, name: str, record: dict[str, Any], *, in_feeds: bool = True, indexed_delay: float = 0) -> str:
        """Store a post record by `name`; list it in the feeds unless it is only context."""
        did, created = did_for(name), self.tick()
        record = {"$type": "app.bsky.feed.post", "createdAt": iso(created), "langs": ["en"], **record}
        uri = f"at://{did}/app.bsky.feed.post/{self.tid()}"
        indexed = created + timedelta(seconds=indexed_delay)
        self.posts[uri] = {
            "uri": uri,
            "cid": fake_cid(record),
            "author": did,
            "record": record,
            "indexedAt": iso(indexed),
        }
        if in_feeds:
            self.entries.append(Entry(int(min(created, indexed).timestamp() * 1000), uri, uri))
        return uri

    def repost_by(self, name: str, post_uri: str) -> str:
        """`name` reposts a post: a feed entry with a reasonRepost."""
        uri = f"at://{did_for(name)}/app.bsky.feed.repost/{self.tid()}"
        self.entries.append(Entry(int(self.tick().timestamp() * 1000), uri, post_uri, by=did_for(name)))
        return uri

    def my_records(self, collection: str) -> dict[str, dict[str, Any]]:
        """The account's records of a collection by uri."""
        return {f"at://{self.me}/{c}/{k}": r for (c, k), r in self.records.items() if c == collection}

    def viewer_record(self, collection: str, post_uri: str) -> str | None:
        """The account's repost/like record of a post, if any."""
        return next((u for u, r in self.my_records(collection).items() if r["subject"]["uri"] == post_uri), None)

    # ---- views -------------------------------------------------------------------------
    def add_label(self, labeler: str, subject: str, val: str, **extra: Any) -> None:
        """A labeler labels a post (at-uri) or an account (DID): com.atproto.label.defs#label."""
        self.labels.append({"ver": 1, "src": labeler, "uri": subject, "val": val,
                            "cts": "2026-11-01T00:00:00.000Z", **extra})

    def labels_on(self, subject: str) -> list[dict[str, Any]]:
        """The labels on a subject by the labelers the current request accepts."""
        return [label for label in self.labels if label["uri"] == subject and label["src"] in self.accepted]

    def self_labels(self, uri: str) -> list[dict[str, Any]]:
        """The record's self-labels as the AppView shows them: labels by the author on the post."""
        p = self.posts[uri]
        values = (p["record"].get("labels") or {}).get("values") or []
        return [{"src": p["author"], "uri": uri, "cid": p["cid"], "val": v["val"], "cts": p["indexedAt"]}
                for v in values]

    def basic(self, did: str) -> dict[str, Any]:
        """profileViewBasic."""
        p = self.profiles[did]
        view = {k: p[k] for k in ("did", "handle", "displayName", "labels", "createdAt")}
        return {**view, "labels": [*view["labels"], *self.labels_on(did)]}

    def profile_view(self, did: str, detailed: bool = False) -> dict[str, Any]:
        """profileView, or profileViewDetailed."""
        p = self.profiles[did]
        keys = ("did", "handle", "displayName", "description", "labels", "createdAt")
        keys += ("followersCount", "followsCount", "postsCount") if detailed else ()
        view = {k: p[k] for k in keys if k in p}
        return {**view, "labels": [*view.get("labels", []), *self.labels_on(did)]}

    def post_view(self, uri: str, authed: bool = True) -> dict[str, Any]:
        """postView, with embed views and (when authed) this account's viewer state."""
        p = self.posts[uri]
        view = {
            "$type": "app.bsky.feed.defs#postView",
            "uri": uri,
            "cid": p["cid"],
            "author": self.basic(p["author"]),
            "record": p["record"],
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": p["indexedAt"],
            "labels": [*self.self_labels(uri), *self.labels_on(uri)],
        }
        embed = self.embed_view(p["record"].get("embed"))
        if embed:
            view["embed"] = embed
        if authed:
            state = {
                "repost": self.viewer_record("app.bsky.feed.repost", uri),
                "like": self.viewer_record("app.bsky.feed.like", uri),
            }
            view["viewer"] = {k: v for k, v in state.items() if v}
        return view

    def embed_view(self, embed: dict[str, Any] | None) -> dict[str, Any] | None:
        """The hydrated view of a record embed (images and quotes are all the harness makes)."""
        if not embed:
            return None
        if embed["$type"] == "app.bsky.embed.images":
            cdn = "https://cdn.bsky.app/img/feed_fullsize/plain/x/y@jpeg"
            images = [{"thumb": cdn, "fullsize": cdn, "alt": i["alt"]} for i in embed["images"]]
            return {"$type": "app.bsky.embed.images#view", "images": images}
        quoted = self.posts.get(embed["record"]["uri"])
        if quoted is None:
            return {
                "$type": "app.bsky.embed.record#view",
                "record": {
                    "$type": "app.bsky.embed.record#viewNotFound",
                    "uri": embed["record"]["uri"],
                    "notFound": True,
                },
            }
        record = {
            "$type": "app.bsky.embed.record#viewRecord",
            "uri": quoted["uri"],
            "cid": quoted["cid"],
            "author": self.basic(quoted["author"]),
            "value": quoted["record"],
            "indexedAt": quoted["indexedAt"],
        }
        return {"$type": "app.bsky.embed.record#view", "record": record}

    def feed_item(self, entry: Entry, authed: bool) -> dict[str, Any]:
        """feedViewPost for an entry: reply context and repost reason included."""
        item: dict[str, Any] = {"post": self.post_view(entry.post_uri, authed)}
        reply = self.posts[entry.post_uri]["record"].get("reply")
        if reply and reply["parent"]["uri"] in self.posts:
            parent = self.post_view(reply["parent"]["uri"], authed)
            item["reply"] = {"root": parent, "parent": parent}
        if entry.by:
            item["reason"] = {
                "$type": "app.bsky.feed.defs#reasonRepost",
                "by": self.basic(entry.by),
                "uri": entry.key,
                "cid": fake_cid(entry.key),
                "indexedAt": iso(datetime.fromtimestamp(entry.time / 1000, UTC)),
            }
        return item

    # ---- HTTP --------------------------------------------------------------------------
    def did_document(self, request: httpx.Request) -> httpx.Response:
        """The PLC directory's `GET /{did}`: a DID document in the did:plc shape (web.plc.directory's
        API: id, alsoKnownAs, verificationMethod, service), its PDS `pds_endpoints[did]` (default PDS)."""
        self.plc_requests += 1
        did = request.url.path.lstrip("/")
        if did in self.plc_down:
            return httpx.Response(500, json={"message": "Internal Server Error"})
        if did not in self.profiles:
            return httpx.Response(404, json={"message": f"DID not registered: {did}"})
        return httpx.Response(200, json={
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{self.profiles[did]['handle']}"],
            "verificationMethod": [{"id": f"{did}#atproto", "type": "Multikey", "controller": did,
                                    "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF"}],
            "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                         "serviceEndpoint": self.pds_endpoints.get(did, PDS)}],
        })

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one XRPC request: injected failure, auth, then the method (or a PLC directory lookup)."""
        if request.url.path.startswith("/did:plc:"):
            return self.did_document(request)
        self.requests.append(request)
        header = request.headers.get("atproto-accept-labelers")
        # docs.bsky.app: a comma-separated list of DIDs, each optionally with `;redact`
        self.accepted = {part.split(";")[0].strip() for part in header.split(",")} if header else {BSKY_MODERATION}
        if self.failures:
            status, headers = self.failures.pop(0)
            return self.error(
                status,
                {429: "RateLimitExceeded", 401: "AuthenticationRequired"}.get(status, "InternalServerError"),
                headers,
            )
        nsid = request.url.path.removeprefix("/xrpc/")
        route = getattr(self, "x_" + nsid.rsplit(".", 1)[-1], None)
        if route is None:
            return self.error(501, "MethodNotImplemented")
        params: dict[str, list[str]] = {}
        for name, value in request.url.params.multi_items():
            params.setdefault(name, []).append(value)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        denied = self.check_auth(nsid, token)
        if denied is not None:
            return denied
        status, payload = route(params, json.loads(request.content) if request.content else {}, token)
        problems = lexicons().check_output(nsid, payload) if status == 200 else lexicons().check_error(nsid, payload)
        assert not problems, problems
        response = httpx.Response(status, json=payload)
        if nsid in WRITES and status == 200:
            return self.after_acting.strike(request, response)
        return response

    @staticmethod
    def error(status: int, name: str, headers: dict[str, str] | None = None, message: str = "") -> httpx.Response:
        """An XRPC error answer: {error, message}."""
        return httpx.Response(status, json={"error": name, "message": message or name}, headers=headers or {})

    def check_auth(self, nsid: str, token: str) -> httpx.Response | None:
        """Sessions: the access token where one is needed (optional on public reads)."""
        if nsid in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
            return None
        if not token:
            needs = nsid.split(".")[-1] in (
                "searchPosts",
                "getTimeline",
                "listNotifications",
                "createRecord",
                "deleteRecord",
                "putRecord",
                "getPosts",
            )
            return self.error(401, "AuthenticationRequired", message="Authentication Required") if needs else None
        if token not in self.access:
            return self.error(401, "InvalidToken", message="Token could not be verified")
        if _exp(token) <= time.time() or token in self.expired:
            return self.error(400, "ExpiredToken", message="Token has expired")
        return None

    # ---- sessions ----------------------------------------------------------------------
    def x_createSession(self, params, body, token):
        if (
            body.get("identifier") not in (self.me, self.profiles[self.me]["handle"])
            or body.get("password") != PASSWORD
        ):
            return 401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        self.logins += 1
        return 200, self.session()

    def x_refreshSession(self, params, body, token):
        if token not in self.refresh:
            return 400, {"error": "InvalidToken", "message": "Token has been revoked"}
        if _exp(token) <= time.time():
            return 400, {"error": "ExpiredToken", "message": "Token has expired"}
        self.refresh.discard(token)
        self.refreshes += 1
        return 200, self.session()

    # ---- feeds -------------------------------------------------------------------------
    def x_searchPosts(self, params, body, token):
        since, until = (params.get(k, [None])[0] for k in ("since", "until"))
        terms, tags = params["q"][0].lower().split(), {t.lower() for t in params.get("tag", [])}
        hits = []
        for p in self.posts.values():
            sort_at = min(p["record"]["createdAt"], p["indexedAt"])
            words, post_tags = set(re.findall(r"\w+", p["record"]["text"].lower())), _tags(p["record"])
            if not all(t[1:] in post_tags if t.startswith("#") else t in words for t in terms) or not tags <= post_tags:
                continue
            if (since and _ms(sort_at) < _ms(since)) or (until and _ms(sort_at) >= _ms(until)):
                continue
            hits.append((sort_at, p["uri"]))
        hits.sort(reverse=True)
        start, limit = int(params.get("cursor", ["0"])[0]), int(params.get("limit", ["25"])[0])
        page = hits[start : start + limit]
        out: dict[str, Any] = {"posts": [self.post_view(uri) for _, uri in page], "hitsTotal": len(hits)}
        if start + limit < len(hits):
            out["cursor"] = str(start + limit)
        return 200, out

    def x_getTimeline(self, params, body, token):
        return 200, self.feed_page(self.entries, params, bool(token))

    def x_getAuthorFeed(self, params, body, token):
        actor = self.resolve(params["actor"][0])
        mine = [e for e in self.entries if (e.by or self.posts[e.post_uri]["author"]) == actor]
        return 200, self.feed_page(mine, params, bool(token))

    def x_getListFeed(self, params, body, token):
        if params["list"][0] != self.list_uri:
            return 400, {"error": "UnknownList", "message": "List not found"}
        members = [e for e in self.entries if (e.by or self.posts[e.post_uri]["author"]) in self.list_members]
        return 200, self.feed_page(members, params, bool(token))

    def feed_page(self, entries: list[Entry], params, authed: bool) -> dict[str, Any]:
        """Newest first; the cursor is `time::key` of the last entry given (stable under inserts)."""
        ordered = sorted(entries, key=lambda e: (e.time, e.key), reverse=True)
        if "cursor" in params:
            t, _, k = params["cursor"][0].partition("::")
            ordered = [e for e in ordered if (e.time, e.key) < (int(t), k)]
        limit = int(params.get("limit", ["50"])[0])
        out: dict[str, Any] = {"feed": [self.feed_item(e, authed) for e in ordered[:limit]]}
        if len(ordered) > limit:
            out["cursor"] = f"{ordered[limit - 1].time}::{ordered[limit - 1].key}"
        return out

    def x_listNotifications(self, params, body, token):
        """Mentions (a mention facet naming the account) and replies to its posts, newest first,
        paged by `time::uri` as the feeds are; other reasons are not made here."""
        reasons = set(params.get("reasons", [])) or {"mention", "reply"}
        found = []
        for p in self.posts.values():
            reason = self.notified_for(p)
            if reason in reasons and p["author"] != self.me:
                found.append(Entry(_ms(p["indexedAt"]), p["uri"], p["uri"]))
        ordered = sorted(found, key=lambda e: (e.time, e.key), reverse=True)
        if "cursor" in params:
            t, _, k = params["cursor"][0].partition("::")
            ordered = [e for e in ordered if (e.time, e.key) < (int(t), k)]
        limit = int(params.get("limit", ["50"])[0])
        out: dict[str, Any] = {"notifications": [self.notification(e.key) for e in ordered[:limit]]}
        if len(ordered) > limit:
            out["cursor"] = f"{ordered[limit - 1].time}::{ordered[limit - 1].key}"
        return 200, out

    def notified_for(self, post: dict[str, Any]) -> str | None:
        """Why the account is told of a post: `mention` (a facet names it), `reply` (to its post)."""
        facets = post["record"].get("facets") or []
        if any(f.get("did") == self.me for facet in facets for f in facet["features"]):
            return "mention"
        parent = ((post["record"].get("reply") or {}).get("parent") or {}).get("uri", "")
        return "reply" if parent.startswith(f"at://{self.me}/") else None

    def notification(self, uri: str) -> dict[str, Any]:
        """app.bsky.notification.listNotifications#notification for a post."""
        p = self.posts[uri]
        return {"uri": uri, "cid": p["cid"], "author": self.profile_view(p["author"]), "reason": self.notified_for(p),
                "record": p["record"], "isRead": False, "indexedAt": p["indexedAt"]}

    def x_getPosts(self, params, body, token):
        return 200, {"posts": [self.post_view(u, bool(token)) for u in params["uris"] if u in self.posts]}

    def x_getProfiles(self, params, body, token):
        dids = [self.resolve(a) for a in params["actors"]]
        return 200, {"profiles": [self.profile_view(d, detailed=True) for d in dids if d in self.profiles]}

    def resolve(self, actor: str) -> str:
        """A handle's DID (DIDs as they are)."""
        return next((d for d, p in self.profiles.items() if p["handle"] == actor), actor)

    def rename(self, did: str, handle: str) -> None:
        """The user changes their handle; the DID stays (the old handle is free for anyone)."""
        self.profiles[did]["handle"] = handle

    def x_resolveHandle(self, params, body, token):
        did = self.resolve(params["handle"][0])
        return (
            (200, {"did": did})
            if did in self.profiles
            else (400, {"error": "InvalidRequest", "message": "Unable to resolve handle"})
        )

    # ---- graph -------------------------------------------------------------------------
    def x_getFollowers(self, params, body, token):
        return 200, {
            "subject": self.profile_view(self.resolve(params["actor"][0])),
            **self.actor_page("followers", [] if self.followers_hidden else self.followers, params),
        }

    def x_getProfile(self, params, body, token):
        did = self.resolve(params["actor"][0])
        if did not in self.profiles:
            return 400, {"error": "InvalidRequest", "message": "Profile not found"}
        view = self.profile_view(did, detailed=True)
        if did == self.me and not self.followers_hidden:  # the count agrees with the list
            view["followersCount"] = len(self.followers)
        return 200, view

    def x_getFollows(self, params, body, token):
        return 200, {
            "subject": self.profile_view(self.resolve(params["actor"][0])),
            **self.actor_page("follows", self.follows, params),
        }

    def by_did(self, uri: str) -> str:
        """An at-uri with its authority as a DID (a handle resolved)."""
        authority, _, rest = uri.removeprefix("at://").partition("/")
        return f"at://{self.resolve(authority)}/{rest}"

    def add_list(self, owner: str, rkey: str, name: str, members: list[str], *, purpose: str = "modlist") -> str:
        """A list `owner` made (an app.bsky.graph.list record, its listitems as members); returns its at-uri."""
        uri = f"at://{did_for(owner)}/app.bsky.graph.list/{rkey}"
        self.lists[uri] = {"name": name, "purpose": f"app.bsky.graph.defs#{purpose}", "creator": did_for(owner),
                           "members": list(members)}
        return uri

    def x_getList(self, params, body, token):
        # The AppView finds a list only by an at-uri naming its owner by DID: with a handle there it
        # answers "List not found" (seen on @atproto/dev-env, docs/tryouts/issue13-modlists.md).
        if not params["list"][0].removeprefix("at://").startswith("did:"):
            return 400, {"error": "InvalidRequest", "message": "List not found"}
        uri = self.by_did(params["list"][0])
        if uri == self.by_did(self.list_uri):
            found = {"name": "curated", "purpose": "app.bsky.graph.defs#curatelist", "creator": self.me,
                     "members": sorted(self.list_members)}
        elif uri in self.lists:
            found = self.lists[uri]
        else:
            return 400, {"error": "InvalidRequest", "message": "List not found"}
        view = {
            "uri": uri,
            "cid": fake_cid(uri),
            "creator": self.profile_view(found["creator"]),
            "name": found["name"],
            "purpose": found["purpose"],
            "listItemCount": len(found["members"]),
            "indexedAt": iso(self.clock),
        }
        page = self.actor_page("items", found["members"], params)
        page["items"] = [{"uri": f"{uri}item{i}", "subject": s} for i, s in enumerate(page["items"])]
        return 200, {"list": view, **page}

    def actor_page(self, field: str, dids: list[str], params) -> dict[str, Any]:
        """Offset-paginated profileViews."""
        start, limit = int(params.get("cursor", ["0"])[0]), int(params.get("limit", ["50"])[0])
        out: dict[str, Any] = {field: [self.profile_view(d) for d in dids[start : start + limit]]}
        if start + limit < len(dids):
            out["cursor"] = str(start + limit)
        return out

    # ---- the account's repo ------------------------------------------------------------
    def x_createRecord(self, params, body, token):
        rkey = body.get("rkey") or self.tid()
        self.records[(body["collection"], rkey)] = body["record"]
        uri = f"at://{self.me}/{body['collection']}/{rkey}"
        if body["collection"] == "app.bsky.feed.post":
            self.posts[uri] = {
                "uri": uri,
                "cid": fake_cid(body["record"]),
                "author": self.me,
                "record": body["record"],
                "indexedAt": iso(self.tick()),
            }
        return 200, {
            "uri": uri,
            "cid": fake_cid(body["record"]),
            "commit": {"cid": fake_cid(uri), "rev": self.tid()},
            "validationStatus": "valid",
        }

    def x_listRecords(self, params, body, token):
        """The repo's records of a collection, newest (highest rkey) first, as the PDS lists them."""
        collection, limit = params["collection"][0], int(params.get("limit", ["50"])[0])
        if self.resolve(params["repo"][0]) != self.me:
            return 200, {"records": []}
        keys = sorted((k for c, k in self.records if c == collection), reverse=True)
        if params.get("cursor"):
            keys = [k for k in keys if k < params["cursor"][0]]
        page = keys[:limit]
        out: dict[str, Any] = {"records": [
            {"uri": f"at://{self.me}/{collection}/{k}", "cid": fake_cid(self.records[(collection, k)]),
             "value": self.records[(collection, k)]} for k in page]}
        if len(keys) > limit:
            out["cursor"] = page[-1]
        return 200, out

    def x_deleteRecord(self, params, body, token):
        self.records.pop((body["collection"], body["rkey"]), None)
        return 200, {"commit": {"cid": fake_cid(body), "rev": self.tid()}}

    def x_getRecord(self, params, body, token):
        key = (params["collection"][0], params["rkey"][0])
        if self.resolve(params["repo"][0]) != self.me or key not in self.records:
            return 400, {
                "error": "RecordNotFound",
                "message": f"Could not locate record: at://{params['repo'][0]}/{key[0]}/{key[1]}",
            }
        record = self.records[key]
        return 200, {"uri": f"at://{self.me}/{key[0]}/{key[1]}", "cid": fake_cid(record), "value": record}

    def x_putRecord(self, params, body, token):
        key = (body["collection"], body["rkey"])
        if self.refuse_profile_writes and key[0] == "app.bsky.actor.profile":
            return 403, {"error": "Forbidden", "message": "this session may not write app.bsky.actor.profile"}
        if self.drop_self_labels:
            body = {**body, "record": {k: v for k, v in body["record"].items() if k != "labels"}}
        current = self.records.get(key)
        if body.get("swapRecord") and (current is None or fake_cid(current) != body["swapRecord"]):
            return 400, {"error": "InvalidSwap", "message": "Record was at a different cid"}
        self.records[key] = body["record"]
        return 200, {"uri": f"at://{self.me}/{key[0]}/{key[1]}", "cid": fake_cid(body["record"])}


# Procedures that change the repo: the ones a fault after acting strikes.
WRITES = {"com.atproto.repo.createRecord", "com.atproto.repo.deleteRecord", "com.atproto.repo.putRecord"}


def _exp(token: str) -> float:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def _ms(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp() * 1000)


def _tags(record: dict[str, Any]) -> set[str]:
    """A record's hashtags, lower-cased: tag facets and the `tags` field."""
    tags = {
        f["tag"].lower() for facet in record.get("facets", []) for f in facet["features"] if f["$type"].endswith("#tag")
    }
    return tags | {t.lower() for t in record.get("tags", [])}


def strong_ref(server: FakeBluesky, uri: str) -> dict[str, str]:
    """com.atproto.repo.strongRef of a stored post."""
    return {"uri": uri, "cid": server.posts[uri]["cid"]}


IMAGE = {"$type": "blob", "ref": {"$link": fake_cid("image")}, "mimeType": "image/jpeg", "size": 48213}


class BlueskyHarness:
    """The Harness protocol over FakeBluesky. `source` may be any Bluesky source kind."""

    name = "bluesky"

    def __init__(self, source: str = "home") -> None:
        self.server = FakeBluesky()
        self.platform = BlueskyPlatform()
        self.source = source
        self.saved: list[dict[str, Any]] = []
        self.server.list_members = {did_for("writer")}
        session = self.server.session()
        self.credentials = {
            "identifier": handle_for("reposterbot"),
            "app_password": PASSWORD,
            "access_jwt": session["accessJwt"],
            "refresh_jwt": session["refreshJwt"],
            "did": self.server.me,
        }

    @property
    def requests(self) -> list[httpx.Request]:
        return self.server.requests

    def context(self, **config: Any) -> AccountContext:
        """The account, with a live session and page_size 2; credential changes land in `saved`."""
        return AccountContext(
            account_id=1,
            handle=handle_for("reposterbot"),
            platform_user_id=self.server.me,
            config={"pds_url": PDS, "page_size": 2, **config},
            credentials=dict(self.credentials),
            on_credentials_changed=self.saved.append,
        )

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.server.handle))

    def add_post(self, kind: str, *, text: str = "hello #coffee world") -> str:
        s = self.server
        body: dict[str, Any] = {"text": text, "facets": facets_for(text)}
        if kind == "reply":
            parent = strong_ref(s, s.publish("bob", {"text": "a question from bob"}, in_feeds=False))
            body["reply"] = {"root": parent, "parent": parent}
        elif kind == "repost":
            return s.repost_by("writer", s.publish("carol", body, in_feeds=False))
        elif kind == "quote":
            quoted = strong_ref(s, s.publish("carol", {"text": "the quoted post"}, in_feeds=False))
            body["embed"] = {"$type": "app.bsky.embed.record", "record": quoted}
        elif kind == "media_links":
            body = {
                "text": f"{text} https://example.com/page",
                "facets": facets_for(f"{text} https://example.com/page"),
                "embed": {"$type": "app.bsky.embed.images", "images": [{"alt": "a cup", "image": IMAGE}]},
            }
        return s.publish("writer", body)

    def fail_next(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        self.server.failures += [(status, headers or {})] * times

    def delete_post(self, post_id: str) -> None:
        """The author deletes the post record; reposts of it stay in their reposters' repos."""
        self.server.posts.pop(post_id, None)
        self.server.entries = [e for e in self.server.entries if e.key != post_id]

    def is_reposted(self, post_id: str) -> bool:
        entry = next((e for e in self.server.entries if e.key == post_id), None)
        return self.server.viewer_record("app.bsky.feed.repost", entry.post_uri if entry else post_id) is not None

    def set_followers(self, handles: list[str]) -> None:
        self.server.followers = [self.server.add_profile(h) for h in handles]

    def validate_requests(self) -> None:
        problems = [p for r in self.server.requests for p in lexicons().check_request(r)]
        assert not problems, problems


def make_harness(source: str = "home") -> BlueskyHarness:
    """The harness the contract suite runs over (the home timeline: it carries every post kind)."""
    return BlueskyHarness(source)
