"""The `reposter` command as an operator runs it: migrate, token create, check-rule, keygen."""

import os
import subprocess
import sys

import httpx
from cryptography.fernet import Fernet

from app.config import Settings
from app.main import create_app
from app.runtime import Runtime


def reposter(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


async def test_migrate_then_token_create_gives_a_working_admin_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    env = {"REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    assert reposter("migrate", env=env).returncode == 0
    made = reposter("token", "create", "--name", "first admin", env=env)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("rp_")
    values = {k.removeprefix("REPOSTER_").lower(): v for k, v in env.items()}
    runtime = Runtime.build(Settings(_env_file=None, **values))
    try:
        app = create_app(runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ok = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"})
            ready = await client.get("/readyz")
    finally:
        await runtime.close()
    assert ok.status_code == 200 and ok.json()["items"][0]["name"] == "first admin"
    assert secret not in ok.text and ready.json()["status"] == "ready"


def test_check_rule_prints_the_fault_and_position():
    good = reposter("check-rule", '(espresso OR "latte art") lang:en', env={})
    assert good.returncode == 0 and "espresso" in good.stdout
    bad = reposter("check-rule", "espresso OR (latte", env={})
    assert bad.returncode == 2 and "position 12" in bad.stderr


def test_a_missing_encryption_key_is_refused_with_a_clear_message(tmp_path):
    env = {"REPOSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "REPOSTER_ENCRYPTION_KEY": "change-me"}
    result = reposter("serve", env=env)
    assert result.returncode != 0 and "REPOSTER_ENCRYPTION_KEY is not set" in result.stderr
