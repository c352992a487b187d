"""Reading X's filtered stream: GET /2/tweets/search/stream, newline-delimited JSON.

Each line is one post with its `includes` and the `matching_rules` ({id, tag}) that let it
through; a blank line is a keep-alive (every 20 seconds); a line with only `errors` is X saying
why it is about to close the connection (an operational disconnect, a full buffer).

Reconnecting follows docs.x.com ("Handling disconnections"): at once after a connection that
worked drops; after a failed attempt, +250 ms per try up to 16 s for network errors, 5 s doubling
up to 320 s for HTTP errors, 1 minute doubling (and never before X's reset time) for 429.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.platforms.base import STREAM_REFUSALS, ActionRefused, PlatformError, Post, RateLimited, StreamUnavailable
from app.platforms.x.normalize import to_post, tweets_by_id, users_by_id

log = logging.getLogger("reposter.platforms.x")

STREAM_PATH = "/2/tweets/search/stream"
# The stream endpoint still takes tweet.fields (also in the OpenAPI document 2.167).
STREAM_PARAMS = {
    "tweet.fields": "attachments,author_id,created_at,entities,in_reply_to_user_id,lang,possibly_sensitive,"
                    "referenced_tweets",
    "expansions": "author_id,referenced_tweets.id,attachments.media_keys,in_reply_to_user_id",
    "user.fields": "created_at,description,name,public_metrics,username",
}


@dataclass
class StreamEvent:
    """One post the stream delivered and the ids of the rules it matched."""

    post: Post
    rule_ids: list[str] = field(default_factory=list)


def parse_stream_line(line: str | bytes) -> StreamEvent | None:
    """One line of the stream: None for a keep-alive; PlatformError when X reports a disconnect."""
    line = line.strip()
    if not line:
        return None
    try:
        message = json.loads(line)
    except ValueError:
        log.warning("x stream line is not JSON", extra={"length": len(line)})
        return None
    if not isinstance(message, dict):
        return None
    if not message.get("data"):
        problems = message.get("errors") or [{}]
        reason = problems[0].get("title") or problems[0].get("detail") or "no data"
        raise PlatformError(f"x: the stream reported {reason}", retryable=True)
    rule_ids = [str(rule["id"]) for rule in message.get("matching_rules") or [] if rule.get("id")]
    includes = message.get("includes")
    post = to_post(message["data"], users_by_id(includes), tweets_by_id(includes))
    return StreamEvent(post=post, rule_ids=rule_ids)


def refusal(error: PlatformError) -> PlatformError:
    """A refusal retrying cannot mend (404, 405, 410, 501; no bearer token for the stream) as
    StreamUnavailable; any other error as it is."""
    if isinstance(error, ActionRefused):
        return StreamUnavailable(str(error), path=STREAM_PATH)
    if error.status in STREAM_REFUSALS:
        return StreamUnavailable(f"x: the filtered stream is not available here (GET {STREAM_PATH} answered "
                                 f"HTTP {error.status})", status=error.status, path=STREAM_PATH)
    return error


class StreamBackoff:
    """How long to wait before the next stream connection, and when to give up."""

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max_failures
        self.failures = 0

    def next_delay(self, error: PlatformError | None, connected: bool) -> float:
        """Seconds to wait after a connection ended (`connected`: it had delivered something).

        Raises `error` when it cannot be cured by waiting (credentials, a missing bearer token)
        or after `max_failures` failed attempts in a row.
        """
        if error is not None and not error.retryable:
            raise error
        if connected:
            self.failures = 0
            return 0.0
        self.failures += 1
        if self.failures > self.max_failures:
            raise error or PlatformError("x: the stream keeps closing before sending anything")
        tries = self.failures - 1
        if isinstance(error, RateLimited):
            return max(60.0 * 2**tries, (error.retry_at - datetime.now(UTC)).total_seconds())
        if error is not None and error.status:
            return min(5.0 * 2**tries, 320.0)
        return min(0.25 * self.failures, 16.0)
