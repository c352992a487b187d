"""What a receiver gets: our JSON event, or one message in the shape a chat's incoming webhook takes.

- `json`: the event itself (`event_payload`).
- `slack`: Slack incoming webhook, `{"text": ...}` (mrkdwn; `&`, `<`, `>` escaped as Slack asks).
- `discord`: Discord execute-webhook, `{"content": ..., "allowed_mentions": {"parse": []}}` (content
  at most 2000 characters; no mention in a message pings anyone).
- `matrix`: matrix-hookshot's generic (inbound) webhook, `{"text": ..., "html": ...}`.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from app.models.alert import AlertFormat

DISCORD_LIMIT = 2000
TITLES = {
    "account_attention": "needs attention",
    "source_failing": "a source keeps failing",
    "review_waiting": "the review queue is waiting",
    "queue_age": "queued reposts waited beyond their queue age",
    "rate_limited": "rate limited",
}


def event_payload(*, delivery_id: str, event: str, kind: str | None, subject: str | None, message: str,
                  account: dict[str, Any] | None, subscription: dict[str, Any], number: int | None,
                  opened_at: datetime | None, resolved_at: datetime | None, at: datetime) -> dict[str, Any]:
    """The generic JSON event (what the `json` format sends as it is)."""
    state = {"alert.opened": "open", "alert.resolved": "resolved"}.get(event, "test")
    return {"delivery_id": delivery_id, "event": event, "state": state, "kind": kind, "subject": subject,
            "message": message, "account": account, "subscription": subscription, "incident": number,
            "opened_at": _iso(opened_at), "resolved_at": _iso(resolved_at), "at": _iso(at)}


def summary(payload: dict[str, Any], *, why: bool = True) -> str:
    """One line for people: what, about which account, and (`why`) the message."""
    account = payload.get("account")
    who = f"{account['platform']} @{account['handle']}" if account else "reposter"
    title = TITLES.get(payload.get("kind") or "", "test message")
    head = {"open": "ALERT", "resolved": "RESOLVED", "test": "TEST"}[payload["state"]]
    return f"[reposter] {head}: {who}: {title}" + (f" ({payload['message']})" if why and payload.get("message") else "")


def render(fmt: str, payload: dict[str, Any]) -> bytes:
    """The body sent to a webhook of format `fmt`."""
    text = summary(payload)
    if fmt == AlertFormat.slack:
        body: dict[str, Any] = {"text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}
    elif fmt == AlertFormat.discord:
        body = {"content": text[:DISCORD_LIMIT], "allowed_mentions": {"parse": []}}
    elif fmt == AlertFormat.matrix:
        body = {"text": text, "html": f"<p>{html.escape(text)}</p>"}
    else:
        body = payload
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
