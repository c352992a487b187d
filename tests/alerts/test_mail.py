"""Email alerts through a local SMTP server (aiosmtpd): one message per incident, one when resolved,
the delivery id as Message-ID; a server that is down is tried again later."""

import socket
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy

import pytest

from app.db.base import utcnow
from tests.alerts.receiver import accept_credentials, refuse_credentials, run
from tests.api.helpers import API, make_account
from tests.ci import unavailable


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.refuse = False
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email_policy)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(runtime):
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        unavailable("aiosmtpd, the local SMTP server of the email tests")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = runtime.settings
    settings.smtp_host, settings.smtp_port, settings.smtp_starttls = "127.0.0.1", controller.port, False
    settings.smtp_from = "alerts@reposter.example"
    inbox.port = controller.port
    yield inbox
    controller.stop()


async def test_email_alerts(client, admin, runtime, smtp):
    account = await make_account(client, admin)
    body = {"name": "on-call", "channel": "email", "email_to": "oncall@example.org", "account_id": account["id"]}
    response = await client.post(f"{API}/alerts/subscriptions", json=body, headers=admin)
    assert response.status_code == 201, response.text
    await refuse_credentials(runtime, account["id"])
    await run(runtime)
    await run(runtime)
    await accept_credentials(runtime, account["id"])
    await run(runtime)
    assert [to for to, _ in smtp.messages] == [["oncall@example.org"]] * 2
    opened, resolved = (m for _, m in smtp.messages)
    assert opened["Subject"].startswith("[reposter] ALERT: mock @coffeeclub: needs attention")
    assert resolved["Subject"].startswith("[reposter] RESOLVED")
    assert opened["From"] == "alerts@reposter.example"
    assert opened["Message-ID"] == f"<{opened['X-Reposter-Delivery']}@reposter>"
    assert "401 token revoked" in opened.get_content()


async def test_a_refused_address_fails_and_a_server_down_is_retried(client, admin, runtime, smtp):
    account = await make_account(client, admin)
    body = {"name": "on-call", "channel": "email", "email_to": "gone@example.org", "account_id": account["id"]}
    sub = (await client.post(f"{API}/alerts/subscriptions", json=body, headers=admin)).json()
    smtp.refuse = True
    await client.post(f"{API}/alerts/subscriptions/{sub['id']}/test", headers=admin)
    await run(runtime)
    deliveries = (await client.get(f"{API}/alerts/subscriptions/{sub['id']}/deliveries", headers=admin)).json()
    assert deliveries["items"][0]["status"] == "failed" and "refused" in deliveries["items"][0]["last_error"]
    smtp.refuse = False
    runtime.settings.smtp_port = free_port()  # nobody listens there
    await client.post(f"{API}/alerts/subscriptions/{sub['id']}/test", headers=admin)
    await run(runtime)
    newest = (await client.get(f"{API}/alerts/subscriptions/{sub['id']}/deliveries", headers=admin)).json()["items"][0]
    assert newest["status"] == "pending" and "unreachable" in newest["last_error"]
    runtime.settings.smtp_port = smtp.port
    await run(runtime, utcnow() + timedelta(hours=1))
    newest = (await client.get(f"{API}/alerts/subscriptions/{sub['id']}/deliveries", headers=admin)).json()["items"][0]
    assert newest["status"] == "delivered" and len(smtp.messages) == 1
