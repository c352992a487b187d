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


def author_domain(handle: str, *, home: str | None) -> str | None:
    """The domain an author is in: Mastodon's `user@instance` -> the instance, a local `user` -> the
    account's own (`home`); a Bluesky handle is a domain itself. None where there is none (X, a DID)."""
    key = handle_key(handle)
    if "@" in key:
        return key.partition("@")[2] or None
    if home:
        return home.lower()
    return key if "." in key and ":" not in key else None


def domain_and_parents(domain: str) -> list[str]:
    """`a.spam.example` -> [`a.spam.example`, `spam.example`, `example`]: what a domain block may name."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]
