"""Bluesky (AT Protocol): XRPC over the account's PDS, Jetstream for push."""
