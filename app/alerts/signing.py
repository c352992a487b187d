"""The signature on every webhook: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret.

Headers sent with each POST:
- `X-Reposter-Delivery`: the delivery's id (a UUID), the same on every retry of one message;
  a receiver that has seen it already can drop the message.
- `X-Reposter-Event`: `alert.opened`, `alert.resolved` or `alert.test`.
- `X-Reposter-Timestamp`: Unix seconds when this attempt was sent.
- `X-Reposter-Signature`: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<raw body>` keyed
  with the secret. A receiver recomputes it, compares in constant time, and refuses a timestamp
  more than five minutes away from its clock (a replayed old message), as `verify` does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

DELIVERY = "X-Reposter-Delivery"
EVENT = "X-Reposter-Event"
TIMESTAMP = "X-Reposter-Timestamp"
SIGNATURE = "X-Reposter-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` over `<timestamp>.<body>`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, *, delivery_id: str, event: str, body: bytes, now: float) -> dict[str, str]:
    """The headers of one attempt."""
    timestamp = int(now)
    return {"Content-Type": "application/json", DELIVERY: delivery_id, EVENT: event, TIMESTAMP: str(timestamp),
            SIGNATURE: signature(secret, timestamp, body)}


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches the body and the timestamp is recent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered.get(TIMESTAMP.lower(), ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), lowered.get(SIGNATURE.lower(), ""))
