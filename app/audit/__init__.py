"""Recording audit events; every change that a person asked for goes through here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent

if TYPE_CHECKING:
    from app.auth.caller import Caller

# Key names that may carry a secret: their values never reach the audit log (credentials are
# write-only; these guard free-form settings such as an account's config).
SECRET_WORDS = ("secret", "token", "password", "passwd", "credential", "authorization", "cookie", "session")
REDACTED = "[redacted]"


def _secret(key: Any) -> bool:
    name = str(key).lower()
    return name in ("key", "apikey") or name.endswith("_key") or any(word in name for word in SECRET_WORDS)


def redacted(value: Any) -> Any:
    """`value` with every mapping entry whose key names a secret replaced by `[redacted]` (null kept:
    it says only that there was none), at any depth."""
    if isinstance(value, Mapping):
        return {k: REDACTED if _secret(k) and v is not None else redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return value


def before_after(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What changed, as `{"before": {field: old}, "after": {field: new}}` over the fields of `after`
    whose value differs; a field holding a mapping (limits, config) shows only its entries that
    changed (an entry absent on one side is null there). Secrets are redacted."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for field, value in after.items():
        was = before.get(field)
        if was == value:
            continue
        if isinstance(was, Mapping) and isinstance(value, Mapping):
            keys = [k for k in {**was, **value} if was.get(k) != value.get(k)]
            was, value = {k: was.get(k) for k in keys}, {k: value.get(k) for k in keys}
        old[field], new[field] = was, value
    return {"before": redacted(old), "after": redacted(new)}


async def record(
    session: AsyncSession,
    caller: Caller | None,
    action: str,
    *,
    target_type: str,
    target_id: Any,
    account_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit event (flushed with the caller's transaction, so it commits with the change)."""
    session.add(
        AuditEvent(
            actor=caller.label if caller else "system",
            actor_token_id=caller.token_id if caller else None,
            action=action,
            account_id=account_id,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail or {},
        )
    )
