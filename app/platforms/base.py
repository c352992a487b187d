"""The adapter contract: the normalized Post, FeedSource and ActionClient.

Every platform (mock, mastodon, bluesky, x) implements these. Nothing above this module
(engine, actions, scheduler, API) knows a platform's wire format; nothing in this module knows
the database.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from app.platforms.handles import handle_key


class Author(BaseModel):
    """The author of a post, as far as the platform tells. None means unknown."""

    model_config = ConfigDict(extra="forbid")

    id: str
    handle: str
    display_name: str | None = None
    # The picture the platform shows for them (https), to recognise the person before blocking them.
    avatar_url: str | None = None
    followers_count: int | None = None
    created_at: datetime | None = None
    is_bot: bool | None = None
    # Mastodon's `note` (bio) or Bluesky's description; used for the #nobot opt-out.
    bio: str | None = None
    # Whether this author blocks the account that fetched the post (where the platform says so,
    # as Bluesky's viewer.blockedBy does): such an author has opted out of it.
    blocks_account: bool | None = None
    # Values of the labels on the account (Bluesky: the AppView's labels that hold, by the
    # labelers the account asks for); None where the platform did not say.
    labels: list[str] | None = None


class Post(BaseModel):
    """The normalized post every adapter produces. A None field is unknown, never false."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    id: str
    url: str | None = None
    author: Author
    text: str = ""
    lang: str | None = None
    created_at: datetime | None = None
    hashtags: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    # The platform ids of the mentioned authors, where the platform gives them (Mastodon's
    # mentions[].id, Bluesky's mention facets' DID, X's entities.mentions[].id): `@name` terms
    # resolved to an id match these, so a mention survives a handle change.
    mention_ids: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    media_count: int | None = None
    is_reply: bool | None = None
    reply_to_author: str | None = None
    # The platform id of the author replied to, where known (what a resolved `to:` term matches).
    reply_to_author_id: str | None = None
    is_repost: bool | None = None
    # For a repost: the author of the original post, whose content a repost of it amplifies (blocks,
    # opt-outs and consent are checked on them too). `author` is whoever reposted it into the feed.
    reposted_author: Author | None = None
    is_quote: bool | None = None
    quoted_post_id: str | None = None
    # The content warning shown before the text (Mastodon's spoiler_text); None: none or unknown.
    content_warning: str | None = None
    # Marked sensitive (Mastodon's `sensitive`, X's `possibly_sensitive`); None: the platform did not say.
    sensitive: bool | None = None
    # Values of the labels on the post (Bluesky: the AppView's labels and the author's self-labels).
    labels: list[str] = Field(default_factory=list)
    # Platform-specific handles an ActionClient needs to act (Bluesky's uri/cid, ...).
    ref: dict[str, str] = Field(default_factory=dict)


class PostChange(BaseModel):
    """A stream's word that a post changed: deleted (`post` None) or edited (`post` as it is now)."""

    platform: str
    id: str
    post: Post | None = None
    # As Post.ref: where the id means something (Mastodon's instance).
    ref: dict[str, str] = Field(default_factory=dict)


class ModerationList(BaseModel):
    """A list of people, as its platform gives it: `purpose` as the platform spells it (Bluesky:
    `app.bsky.graph.defs#modlist` or `#curatelist`); members are (stable id, handle) pairs."""

    uri: str
    name: str
    purpose: str
    members: list[tuple[str, str]] = Field(default_factory=list)
    # True when the list was longer than the adapter reads (its members are the first ones)
    truncated: bool = False


class PlatformError(Exception):
    """A platform call failed. `retryable` says whether trying again later may succeed; `kind` names
    the failure for people (timeout, transport, http, rate_limited, credentials, not_found, refused)."""

    kind_default: str | None = None  # each subclass names its own kind

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None, kind: str | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.kind = kind or self.kind_default or ("http" if status is not None else "platform")


# The bucket of an account's whole budget, spent by every call it makes (Mastodon's 300 calls per
# 5 minutes): a limit on it holds the account's polls and sends alike. Adapters that know the
# platform's own buckets (X per endpoint, Bluesky's repo writes) name them instead.
SHARED_BUCKET = "account"


class RateLimited(PlatformError):
    """The platform said to wait (429 or an exhausted rate-limit window) until `retry_at`.

    `bucket` names the platform's rate-limit bucket that is exhausted; SHARED_BUCKET (the
    default, when an adapter cannot tell) means every call of the account waits.
    """

    kind_default = "rate_limited"

    def __init__(self, message: str, *, retry_at: datetime, bucket: str = SHARED_BUCKET):
        super().__init__(message, retryable=True, status=429)
        self.retry_at = retry_at
        self.bucket = bucket

    @property
    def shared(self) -> bool:
        """Whether the exhausted bucket is the account's whole budget."""
        return self.bucket == SHARED_BUCKET


class CredentialsInvalid(PlatformError):
    """401/403 on credentials: the account needs its owner's attention; do not retry blindly."""

    kind_default = "credentials"

    def __init__(self, message: str, *, status: int | None = 401):
        super().__init__(message, retryable=False, status=status)


class PostGone(PlatformError):
    """The post (or the repost being undone) no longer exists on the platform."""

    kind_default = "not_found"

    def __init__(self, message: str = "post no longer exists"):
        super().__init__(message, retryable=False, status=404)


class OutcomeUnknown(PlatformError):
    """A call that may have reached the platform failed without an answer (a timeout after
    sending, a reset connection, a 5xx to a POST): the platform may or may not have acted.

    Never repeated blindly: the caller settles it by asking the platform (`ActionClient.find_own`)
    before anything is sent again. Also raised by `find_own` when the platform cannot tell.
    """

    kind_default = "outcome_unknown"

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message, retryable=True, status=status)


class ActionRefused(PlatformError):
    """The platform (or its automation rules) does not allow this action, e.g. likes on X."""

    kind_default = "refused"

    def __init__(self, message: str):
        super().__init__(message, retryable=False, status=None)


class StreamUnavailable(PlatformError):
    """The server refuses the stream for good (404, 405, 410, 501, or the platform says this app
    or server has no streaming): retrying cannot mend it; polling carries the feed. `path` is
    the endpoint asked (no query: it may carry a token)."""

    kind_default = "unavailable"

    def __init__(self, message: str, *, status: int | None = None, path: str | None = None):
        super().__init__(message, retryable=False, status=status)
        self.path = path


# HTTP answers that mean "no stream here" rather than "not now".
STREAM_REFUSALS = (404, 405, 410, 501)


class AccountContext(BaseModel):
    """What an adapter knows of the account it acts for. Credentials are decrypted here only.

    Adapters that refresh credentials (Bluesky sessions, X refresh tokens) replace
    `credentials` and call `on_credentials_changed`, so that the caller stores them encrypted.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    account_id: int | None = None
    handle: str
    platform_user_id: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] = Field(default_factory=dict)
    on_credentials_changed: Callable[[dict[str, Any]], None] | None = None

    def update_credentials(self, credentials: dict[str, Any]) -> None:
        """Replace the credentials and tell the owner, who persists them encrypted."""
        self.credentials = credentials
        if self.on_credentials_changed is not None:
            self.on_credentials_changed(credentials)


class ConnectWarning(BaseModel):
    """Something `connect` could not do although the credentials work (the bot flag did not stick).

    The accounts service raises it as the account condition `code` (app/accounts/conditions.py),
    severity warning: the account connects, and its owner sees what to do."""

    code: str
    message: str
    http_status: int | None = None


class ConnectedAccount(BaseModel):
    """What `Platform.connect` learned: who the credentials belong to, and what it could not do."""

    platform_user_id: str
    handle: str
    display_name: str | None = None
    # Other spellings of this account's handle the platform accepts (Mastodon's bare `alice`
    # for `alice@own.instance`); the service compares a given handle with these too.
    aliases: list[str] = Field(default_factory=list)
    warnings: list[ConnectWarning] = Field(default_factory=list)

    def is_named(self, given: str) -> bool:
        """Whether `given` names this account: its handle, an alias or its id (case and a leading @ aside)."""
        names = {self.handle, self.platform_user_id, *self.aliases}
        return handle_key(given) in {handle_key(n) for n in names}


# The source of the account's own mentions (where `Platform.reads_mentions`): its posts are not
# candidates for reposting; the poller reads them for stop words (app/moderation/stop.py).
MENTIONS = "mentions"


class FeedSource(abc.ABC):
    """Reads posts from a platform for one account.

    A *source* is a string naming a feed: `tag:<hashtag>`, `tags:<a>,<b>` (several tags in one
    call where the platform allows), `home`, `list:<id>`, `user:<handle>`, `search:<query>`,
    `public`, and `mentions` (MENTIONS: posts mentioning the account, where the platform
    `reads_mentions`). Each platform lists the kinds it supports in `Platform.source_kinds`.
    """

    @abc.abstractmethod
    async def fetch(self, source: str, cursor: str | None) -> tuple[list[Post], str | None]:
        """Return the posts newer than `cursor` (oldest first) and the cursor to pass next time.

        With `cursor=None`, return the most recent page only (never the whole history).
        The returned cursor is never older than the one passed in; when nothing is new,
        return `([], cursor)`. Follows the platform's pagination so that nothing between
        `cursor` and now is missed (bounded by `max_pages`).
        Raises RateLimited, CredentialsInvalid, PlatformError; never returns partial garbage.
        """

    async def stream(self, sources: list[str]) -> AsyncGenerator[Post | PostChange, None]:
        """Yield posts as the platform pushes them, and a PostChange where the platform announces
        a deletion or an edit (Mastodon). Platforms without push raise NotImplementedError."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator


class ActionClient(abc.ABC):
    """Acts on a platform for one account. Every method raises PlatformError subclasses only."""

    @abc.abstractmethod
    async def repost(self, post: Post) -> str:
        """Repost (retweet, boost) `post`; return the platform's id of the repost.

        Reposting something already reposted by this account is not an error: return the
        existing repost's id (or the post id where the platform has none).
        """

    @abc.abstractmethod
    async def undo(self, post: Post, platform_action_id: str | None, kind: str = "repost") -> None:
        """Undo an earlier `kind` action (repost, quote, like, reply) on `post`: a quote or reply is
        deleted by its id (`platform_action_id`).

        Raises PostGone when the post or the repost no longer exists (callers treat that as done).
        """

    @abc.abstractmethod
    async def quote(self, post: Post, text: str) -> str:
        """Publish a new post with `text` quoting `post`; return the new post's id."""

    @abc.abstractmethod
    async def reply(self, post: Post, text: str) -> str:
        """Publish `text` as this account's reply to `post` (in its thread, its author told as the
        platform tells a reply's parent); return the new post's id, which `find_own(post, "reply")`
        finds again. Raises PostGone when `post` no longer exists."""

    @abc.abstractmethod
    async def like(self, post: Post) -> str:
        """Like (favourite) `post`; return an id for the like. Raises ActionRefused where banned."""

    @abc.abstractmethod
    async def has_reposted(self, post: Post) -> bool | None:
        """Whether this account has reposted `post`; None when the platform cannot tell."""

    async def fetch_post(self, post: Post) -> Post | None:
        """The post as the platform shows it now (with any edits), or None once its author deleted it.

        Used to notice originals that change after they were reposted. For a repost item it looks up
        the original. Raises PlatformError when the platform cannot be asked, ActionRefused where
        the platform cannot look a post up at all.
        """
        raise ActionRefused("this platform cannot look a post up")

    async def find_own(self, post: Post, kind: str, *, since: datetime | None = None) -> str | None:
        """This account's existing `kind` action (repost, quote, like, reply) on `post`, asked of the platform.

        Returns the action's platform id (what the call that made it would have returned), None
        when the platform says there is none, and raises OutcomeUnknown when it cannot tell.
        `since` is when the action was decided: nothing of this action's is older, so a search
        through the account's own recent posts or records may stop there.
        By default only reposts can be settled, through `has_reposted`.
        """
        if kind != "repost":
            raise OutcomeUnknown(f"cannot tell whether this account's {kind} of {post.id} exists")
        reposted = await self.has_reposted(post)
        if reposted is None:
            raise OutcomeUnknown(f"cannot tell whether this account reposted {post.id}")
        return post.id if reposted else None

    @abc.abstractmethod
    async def followers(self) -> set[str]:
        """Ids and lower-cased handles of the accounts following this account (paginated)."""

    @abc.abstractmethod
    async def following(self) -> set[str]:
        """Ids and lower-cased handles of the accounts this account follows (paginated)."""

    async def lookup_author(self, name: str) -> Author | None:
        """The person `name` names on this platform: a handle (`alice`, `@alice`, `alice@domain`,
        already cleaned by the caller) or the platform's own id (a DID, an account or user id).

        Returns the Author with its stable `id` and current `handle` (Mastodon: the canonical
        `user@domain`, with the instance's domain for local accounts); None when the platform
        says nobody has that name. Raises PlatformError (RateLimited, CredentialsInvalid, ...)
        when the platform cannot answer; never guesses an id from the name.
        """
        raise ActionRefused("this platform cannot look authors up")

    async def list_members(self, list_id: str) -> set[str]:
        """Ids and lower-cased handles of the members of list `list_id`."""
        raise ActionRefused("this platform has no lists")

    async def moderation_list(self, list_id: str) -> ModerationList:
        """A shared list of people to block (Bluesky: a list whose purpose is `modlist`): its name,
        purpose and every member by stable id. Raises PostGone when there is no such list."""
        raise ActionRefused("this platform has no moderation lists")


class Platform(abc.ABC):
    """A platform registered by name. One instance per process, shared by all accounts."""

    name: ClassVar[str]
    # Default limits this platform's automation rules call for; accounts may tighten them.
    default_limits: ClassVar[dict[str, Any]] = {}
    source_kinds: ClassVar[tuple[str, ...]] = ()
    can_like: ClassVar[bool] = True
    # Whether authors' handles are in a domain (Mastodon `user@instance`, Bluesky `name.domain`):
    # domain blocks (`*@spam.example`) can be made for its accounts
    handles_have_domains: ClassVar[bool] = False
    # Whether a repost stays (pointing at nothing) when its original is deleted, as on Bluesky.
    reposts_outlive_originals: ClassVar[bool] = False
    # The pydantic model of `AccountContext.config` (extra keys are the service's own and ignored).
    config_model: ClassVar[type[BaseModel] | None] = None
    # The calls per second the platform allows an account for reading its feeds; polls spend a share
    # of it (REPOSTER_POLL_BUDGET_SHARE, app/pipeline/poll_schedule.py). None: no limit to fit.
    calls_per_second: ClassVar[float | None] = None
    # Whether `FeedSource.fetch(MENTIONS, cursor)` returns the posts that mention the account (oldest
    # first, each once, as any source): what "stop" by mention reads.
    reads_mentions: ClassVar[bool] = False

    def check_config(self, config: dict[str, Any]) -> None:
        """Raise pydantic's ValidationError when an account's config does not fit this platform."""
        if self.config_model is not None:
            self.config_model.model_validate(config)

    @abc.abstractmethod
    def feed_source(self, ctx: AccountContext, http: httpx.AsyncClient) -> FeedSource:
        """The FeedSource for one account. An account config that does not fit raises PlatformError
        (naming each fault), never pydantic's ValidationError: that would escape the error family."""

    @abc.abstractmethod
    def action_client(self, ctx: AccountContext, http: httpx.AsyncClient) -> ActionClient:
        """The ActionClient for one account; a config that does not fit raises PlatformError, as in `feed_source`."""

    @abc.abstractmethod
    async def connect(self, ctx: AccountContext, http: httpx.AsyncClient) -> ConnectedAccount:
        """Check the credentials (raise CredentialsInvalid if wrong) and prepare the account
        (the bot flag or label where the platform has one). Returns who the account is.

        Preparing is best-effort: what could not be done (a bot flag the server refused or did not
        keep) is returned in `warnings`, never raised, so that working credentials connect."""

    def home_domain(self, config: dict[str, Any]) -> str | None:
        """The domain local handles may carry on the account's server (`alice@own.instance` is
        `alice` there), or None where handles have no such form."""
        return None

    def rate_bucket(self, kind: str) -> str:
        """The rate-limit bucket an action spends: `kind` is repost, quote, like or reply, or
        `undo:<kind>` for undoing one. SHARED_BUCKET unless the platform limits it apart."""
        return SHARED_BUCKET

    def default_limits_for_account(self) -> dict[str, Any]:
        """The account-level limits (Limits fields) this platform's rules call for."""
        fields = ("max_per_hour", "max_per_day", "min_interval_seconds")
        return {k: v for k, v in self.default_limits.items() if k in fields}

    def same_server(self, config: dict[str, Any], other: dict[str, Any]) -> bool:
        """Whether accounts with these configs live on one server, where a user id names one person
        (true on platforms whose ids are global: a Bluesky DID, an X user id)."""
        return True

    def can_act_on(self, config: dict[str, Any], ref: dict[str, str]) -> bool:
        """Whether an account with `config` can act on a post through the id it carries, by the
        post's (or PostChange's) `ref` (a Mastodon status id is its instance's own)."""
        return True

    def default_sources(self, ctx: AccountContext, hashtags: list[str]) -> list[str]:
        """Sources to poll when the account names none: by default one per rule hashtag."""
        return [f"tag:{tag}" for tag in hashtags] or ["home"]


# -- stream health ------------------------------------------------------------------------------
# Streams reconnect inside the adapter, out of the streamer's sight; they say how the connection is
# doing through `report_stream`, and the streamer (which sets the reporter for its task) records it
# for the account's owner. Without a reporter set, reporting does nothing.
StreamReporter = Callable[[str, BaseException | None], None]
_stream_reporter: ContextVar[StreamReporter | None] = ContextVar("stream_reporter", default=None)


def set_stream_reporter(reporter: StreamReporter | None) -> None:
    """Route this task's (and its child tasks') stream reports to `reporter`."""
    _stream_reporter.set(reporter)


def report_stream(state: str, error: BaseException | None = None) -> None:
    """A stream says `connected` when a connection opens, `reconnecting` (with the error) when it drops."""
    reporter = _stream_reporter.get()
    if reporter is not None:
        reporter(state, error)
