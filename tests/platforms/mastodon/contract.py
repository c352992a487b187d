"""The published Mastodon API as the tests check against it (tests/platforms/specs)."""

from __future__ import annotations

import copy
from functools import cache

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.platforms.openapi_check import OpenAPIContract


class MastodonContract(OpenAPIContract):
    """The published Mastodon API, read as Mastodon's documentation means it.

    One thing the generated document gets wrong, mended here: `Status.quote` is
    `oneOf: [Quote, ShallowQuote, null]`, but both object schemas require only `state` and forbid
    no keys, so every real quote matches both and `oneOf` fails; `anyOf` is what
    docs.joinmastodon.org/entities/Quote and /ShallowQuote describe.
    And `POST /api/v1/apps` `redirect_uris` is typed as an array only, where
    docs.joinmastodon.org/methods/apps says "String or Array of Strings" (arrays since 4.3).
    """

    def __init__(self) -> None:
        super().__init__("mastodon.openapi.json")
        self.doc = copy.deepcopy(self.doc)
        quote = self.doc["components"]["schemas"]["Status"]["properties"]["quote"]
        quote["anyOf"] = quote.pop("oneOf")
        apps = self.doc["paths"]["/api/v1/apps"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        uris = apps["properties"]["redirect_uris"]
        apps["properties"]["redirect_uris"] = {"anyOf": [{"type": "string"}, uris], "description": uris["description"]}
        self.registry = Registry().with_resource("urn:spec", Resource(self.doc, DRAFT202012))


@cache
def mastodon_contract() -> MastodonContract:
    """The contract every Mastodon request and fixture answer is checked against (built once)."""
    return MastodonContract()
