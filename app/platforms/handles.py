"""One spelling of a handle: what people type and what platforms show, made comparable.

Pure (no imports of the app): the engine, the pipeline, moderation and every platform compare
handles through it, so `@Alice`, `alice` and `alice@own.instance` are one name everywhere.
"""


def handle_key(value: str, *, domain: str | None = None) -> str:
    """`@Alice`, ` alice `, and `alice@own.instance` on own.instance -> `alice`; ids lower-cased as they are."""
    name = value.strip().lstrip("@").lower()
    if domain and name.endswith(f"@{domain.lower()}"):
        name = name[: -len(domain) - 1]
    return name


def instance_of(value: str) -> str:
    """The server a `user@instance` handle names, lower-cased; '' for a local handle."""
    return handle_key(value).partition("@")[2]
