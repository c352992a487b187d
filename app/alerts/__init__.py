"""Alerts: webhooks (and email) when an account needs a person, signed, retried and de-duplicated.

findings.py says what is wrong now (pure), incidents.py opens and resolves incidents and writes
the outbox, delivery.py sends the outbox, payloads.py and signing.py shape and sign what is sent.
"""
