"""One spelling of a handle: what people type and what platforms show, made comparable.

Pure (no imports of the app): the engine, the pipeline, moderation and every platform compare
handles through it, so `@Alice`, `alice` and `alice@own.instance` are one name everywhere.
"""


def bare_handle(value: str) -> str:
    """` @Alice ` -> `Alice`: the name as typed, without spaces or a leading @, case kept (for
    display and for a platform's own lookups, where an id such as a DID must keep its case)."""
    return value.strip().lstrip("@")


def handle_key(value: str, *, domain: str | None = None) -> str:
    """`@Alice`, ` alice `, and `alice@own.instance` on own.instance -> `alice`; ids lower-cased as they are."""
    name = bare_handle(value).lower()
    if domain and name.endswith(f"@{domain.lower()}"):
        name = name[: -len(domain) - 1]
    return name


def instance_of(value: str) -> str:
    """The server a `user@instance` handle names, lower-cased; '' for a local handle."""
    return handle_key(value).partition("@")[2]
