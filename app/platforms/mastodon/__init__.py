"""Mastodon: REST polling, streaming, boosts and OAuth login for one instance per account."""
