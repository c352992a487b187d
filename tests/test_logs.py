"""Log lines carry their fields, in JSON for services and text for people; the CLI picks the format."""

import json
import logging
import os
import socket
import subprocess
import sys
import time

import httpx
from cryptography.fernet import Fernet

from app.cli import log_choice
from app.config import Settings
from app.logs import JsonFormatter, TextFormatter
from tests.test_cli import reposter


def _record(**extra) -> logging.LogRecord:
    logger = logging.getLogger("reposter.poller")
    return logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "poll failed", (), None, extra=extra)


def test_a_json_line_carries_every_field_of_the_record():
    record = _record(account_id=7, source="tag:coffee", error_kind="timeout", http_status=None, access_token="s3cr3t")
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "poll failed" and data["level"] == "WARNING" and data["logger"] == "reposter.poller"
    assert data["account_id"] == 7 and data["source"] == "tag:coffee" and data["error_kind"] == "timeout"
    assert "http_status" in data and data["time"].endswith("Z")
    assert data["access_token"] == "[redacted]" and "s3cr3t" not in line


def test_a_text_line_carries_every_field_as_key_value():
    line = TextFormatter().format(_record(account_id=7, error="mastodon: HTTP 503 on GET /home", new=0))
    assert "WARNING reposter.poller: poll failed" in line
    assert "account_id=7" in line and 'error="mastodon: HTTP 503 on GET /home"' in line and "new=0" in line


def test_an_exception_keeps_its_traceback_and_fields():
    try:
        raise ValueError("adapter bug")
    except ValueError:
        record = _record(cursor_id=3)
        record.exc_info = sys.exc_info()
    data = json.loads(JsonFormatter().format(record))
    assert data["cursor_id"] == 3 and "ValueError: adapter bug" in data["exception"]


def test_services_log_json_and_people_read_text_unless_the_setting_says():
    default = Settings(_env_file=None)
    assert log_choice("serve", default)[0] == "json" and log_choice("worker", default)[0] == "json"
    assert log_choice("demo", default) == ("text", "WARNING") and log_choice("migrate", default)[0] == "text"
    chosen = Settings(_env_file=None, log_format="text", log_level="DEBUG")
    assert log_choice("worker", chosen) == ("text", "DEBUG") and log_choice("demo", chosen) == ("text", "DEBUG")
    assert log_choice("demo", Settings(_env_file=None, log_format="json"))[0] == "json"


def test_the_log_format_setting_reaches_the_command_line(tmp_path):
    env = {"REPOSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "REPOSTER_LOG_FORMAT": "json"}
    migrated = reposter("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    lines = [json.loads(line) for line in migrated.stderr.splitlines()]
    assert any(line["logger"].startswith("alembic") and "Running upgrade" in line["message"] for line in lines)
    env = {"REPOSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "REPOSTER_LOG_FORMAT": "text"}
    text = reposter("migrate", env=env).stderr
    assert "INFO alembic.runtime.migration: Running upgrade" in text and not text.lstrip().startswith("{")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_writes_json_lines_for_its_own_and_uvicorns_logs_and_no_query_strings(tmp_path):
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {"REPOSTER_DATABASE_URL": url, "REPOSTER_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "REPOSTER_LOG_FORMAT": ""}  # empty: the command's default, json for serve
    assert reposter("migrate", env=env).returncode == 0
    port = _free_port()
    env = {**os.environ, **env}
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port)], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # until it answers (bounded; not a timing assertion)
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz?access_token=s3cr3t", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err  # uvicorn's graceful stop on SIGTERM, then a clean exit
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(line["logger"] == "uvicorn.error" and "startup complete" in line["message"] for line in lines), err
    [access] = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["path"] == "/healthz" and access["status"] == 200 and access["method"] == "GET"
    assert "s3cr3t" not in err
