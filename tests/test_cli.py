"""The `reposter` command as an operator runs it: every mistake is one line on stderr that says what
to do (exit status 2 for the command line or a setting, 1 for the world), never a traceback."""

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from app.auth.service import authenticate
from app.cli import build_parser, main
from app.config import Settings, get_settings
from app.db.migrate import current_revision, head_revision, schema_problem, upgrade
from app.db.session import make_engine, make_sessionmaker, transaction
from app.errors import Unauthorized
from app.main import create_app
from app.runtime import Runtime
from tests.conftest import PG_SERVER, _drop_database, _postgres_database

SCRIPT = Path(sys.executable).parent / "reposter"


def reposter(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The installed console script, in a subprocess."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "app.cli"]
    return subprocess.run([*command, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess, status: int) -> str:
    """The single line a failed command printed on stderr (asserting there is exactly one)."""
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Set REPOSTER_* variables for main() in this process (no .env around; the settings cache cleared)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("REPOSTER_") and n != "REPOSTER_TEST_PG"]:
        monkeypatch.delenv(name)

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"REPOSTER_{name.upper()}", value)
        get_settings.cache_clear()

    yield set_
    get_settings.cache_clear()


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) in this process: (exit status, stdout, stderr)."""
    try:
        main(list(argv))
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


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


# --- the encryption key -------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "said"), [
    (None, "REPOSTER_ENCRYPTION_KEY is not set: generate one with `reposter keygen`"),
    ("  ", "REPOSTER_ENCRYPTION_KEY is not set"),
    ("change-me", "REPOSTER_ENCRYPTION_KEY is set to a placeholder ('change-me'): generate one with `reposter keygen`"),
    ("not-a-key", "REPOSTER_ENCRYPTION_KEY is not a valid key (Fernet key must be 32 url-safe base64-encoded bytes."),
])
def test_a_missing_placeholder_or_malformed_key_is_one_line(capsys, env, tmp_path, key, said):
    env(database_url=f"sqlite:///{tmp_path / 'x.db'}", **({} if key is None else {"encryption_key": key}))
    for command in ("serve", "worker"):
        status, _, err = run_main(capsys, command)
        assert status == 2 and err.count("\n") == 1 and err.startswith(f"reposter {command}: {said}"), err


def test_the_placeholder_key_is_refused_by_the_real_command(tmp_path):
    env = {"REPOSTER_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "REPOSTER_ENCRYPTION_KEY": "change-me"}
    line = one_line(reposter("serve", env=env), 2)
    assert line.startswith("reposter serve: REPOSTER_ENCRYPTION_KEY is set to a placeholder ('change-me')")


# --- settings and the database URL ------------------------------------------------------------

def test_an_unparsable_setting_names_its_variable(capsys, env):
    env(port="eighty")
    status, _, err = run_main(capsys, "serve")
    assert status == 2 and err.startswith("reposter serve: REPOSTER_PORT: Input should be a valid integer"), err
    env(port="8000", log_level="loud")
    status, _, err = run_main(capsys, "migrate")
    assert status == 2 and err == "reposter migrate: REPOSTER_LOG_LEVEL: Unknown level: 'LOUD'; use DEBUG, " \
                                  "INFO, WARNING or ERROR\n"


def test_the_readme_database_url_on_a_machine_without_that_host_is_one_line():
    env = {"REPOSTER_DATABASE_URL": "postgresql://reposter@db.invalid/reposter",
           "REPOSTER_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    for command in ("migrate", "serve", "worker"):
        line = one_line(reposter(command, env=env), 1)
        assert line.startswith(f"reposter {command}: cannot reach the database at "
                               "postgresql+psycopg://reposter@db.invalid/reposter: ")
        assert line.endswith("check REPOSTER_DATABASE_URL and that the database is running")


@pytest.mark.parametrize(("url", "said"), [
    ("not a url", "Could not parse SQLAlchemy URL"),
    ("mysql://me:pw@host/db", "No module named"),
    ("postgresql://me:pw@127.0.0.1:notaport/db", "invalid literal"),
])
def test_an_unusable_database_url_is_a_usage_mistake_and_hides_the_password(capsys, env, url, said):
    env(database_url=url)
    for argv in (["migrate"], ["token", "list"]):
        status, _, err = run_main(capsys, *argv)
        assert status == 2 and err.count("\n") == 1 and "is not a database URL reposter can use" in err, err
        assert said in err and "pw@" not in err and "e.g. postgresql://user@host/dbname" in err


def test_an_unreachable_database_hides_the_password(capsys, env):
    env(database_url="postgresql://me:s3cret@127.0.0.1:1/db")
    status, _, err = run_main(capsys, "token", "list")
    assert status == 1 and err.startswith("reposter token list: cannot reach the database at "
                                          "postgresql+psycopg://me:***@127.0.0.1:1/db: "), err
    assert "s3cret" not in err


def test_migrate_to_an_unknown_revision_is_a_usage_mistake(capsys, env, tmp_path):
    env(database_url=f"sqlite:///{tmp_path / 'm.db'}")
    status, _, err = run_main(capsys, "migrate", "9999_nope")
    assert status == 2 and "Can't locate revision identified by '9999_nope'" in err.splitlines()[-1]


# --- serve and worker before migrate, on both databases -----------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path):
    """A database reposter never migrated: a SQLite file not made yet, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = _postgres_database()
    yield f"{PG_SERVER.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    _drop_database(name)


def test_the_revision_of_a_migrated_database_is_the_head(db_url):
    assert asyncio.run(current_revision(db_url)) == head_revision()
    assert schema_problem(head_revision()) is None


def test_serve_worker_and_tokens_refuse_an_unmigrated_database_and_say_run_migrate(empty_db_url, tmp_path):
    assert asyncio.run(current_revision(empty_db_url)) is None
    env = {"REPOSTER_DATABASE_URL": empty_db_url, "REPOSTER_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    for argv in (["serve"], ["worker"], ["token", "create"]):
        line = one_line(reposter(*argv, env=env), 1)
        said = "the database has no reposter tables yet: run `reposter migrate` first"
        assert line == f"reposter {' '.join(argv)}: {said}"
    assert not (tmp_path / "fresh.db").exists()  # the check made no empty SQLite file


def test_a_database_behind_the_code_says_run_migrate(empty_db_url, capsys, env):
    upgrade(empty_db_url, "0004_originals")
    assert asyncio.run(current_revision(empty_db_url)) == "0004_originals"
    env(database_url=empty_db_url, encryption_key=Fernet.generate_key().decode())
    status, _, err = run_main(capsys, "worker")
    assert status == 1
    assert err == (f"reposter worker: the database schema is at 0004_originals, this reposter needs "
                   f"{head_revision()}: run `reposter migrate` first\n")


def test_a_database_ahead_of_the_code_says_so():
    problem = schema_problem("9999_from_the_future")
    assert problem and "does not know" in problem and "upgrade reposter" in problem


def test_serve_on_a_busy_port_is_one_line(capsys, env, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 's.db'}"
    upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env(database_url=url, encryption_key=Fernet.generate_key().decode())
        status, _, err = run_main(capsys, "serve", "--port", str(port))
    assert status == 1
    assert err.startswith(f"reposter serve: cannot listen on 127.0.0.1:{port}: Address already in use"), err
    status, _, err = run_main(capsys, "serve", "--host", "no-such-host.invalid")
    assert status == 1 and err.startswith("reposter serve: cannot listen on no-such-host.invalid:8000: ")
    assert err.endswith("(check the host and port: --host and --port, or REPOSTER_HOST and REPOSTER_PORT for serve)\n")


# --- tokens -------------------------------------------------------------------------------------

@pytest.fixture
def migrated(env, tmp_path):
    """A migrated SQLite database the commands in this process use."""
    url = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    env(database_url=url)
    return url


@pytest.mark.parametrize(("argv", "said"), [
    (["--role", "boss"], "reposter token create: argument --role: invalid choice: 'boss' (choose from "
                         "'admin', 'organizer', 'moderator') (see `reposter token create --help`)"),
    (["--role", "moderator"], "reposter token create: a moderator token needs the accounts it reaches: "
                              "add --account ID (repeat it for several)"),
    (["--role", "organizer", "--account", "7"], "reposter token create: accounts not found: [7] "
                                                "(GET /api/v1/accounts lists the accounts and their ids)"),
    (["--account", "x"], "reposter token create: argument --account: invalid int value: 'x' "
                         "(see `reposter token create --help`)"),
    (["--name", ""], "reposter token create: --name: String should have at least 1 character"),
])
def test_token_create_mistakes_are_one_line(capsys, migrated, argv, said):
    status, out, err = run_main(capsys, "token", "create", *argv)
    assert (status, out, err) == (2, "", said + "\n")


def test_token_list_shows_no_secret_and_revoke_stops_a_token(capsys, migrated):
    assert run_main(capsys, "token", "list")[1] == "no tokens yet; `reposter token create` makes the first\n"
    secrets = [run_main(capsys, "token", "create", "--name", name)[1].strip() for name in ("first admin", "ci")]
    status, out, _ = run_main(capsys, "token", "revoke", "2")
    assert (status, out) == (0, "token 2 revoked\n")
    status, out, _ = run_main(capsys, "token", "list")
    header, first, second = out.splitlines()
    assert header.split() == ["id", "name", "role", "accounts", "prefix", "created", "last", "used", "revoked"]
    assert first.split()[:5] == ["1", "first", "admin", "admin", "all"] and first.split()[-2:] == ["never", "-"]
    assert second.split()[:4] == ["2", "ci", "admin", "all"] and second.split()[-1] != "-"
    assert not any(secret in out or secret[8:16] in out for secret in secrets)
    assert f"{secrets[0][:8]}..." in first  # the shown prefix, which the API shows too
    assert [asyncio.run(_authenticates(migrated, secret)) for secret in secrets] == [True, False]


async def _authenticates(url: str, secret: str) -> bool:
    engine = make_engine(url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            await authenticate(session, secret)
        return True
    except Unauthorized:
        return False
    finally:
        await engine.dispose()


def test_revoking_an_unknown_token_is_one_line(capsys, migrated):
    status, _, err = run_main(capsys, "token", "revoke", "99")
    assert (status, err) == (2, "reposter token revoke: token 99 not found (`reposter token list` shows the ids)\n")


# --- check-rule ---------------------------------------------------------------------------------

def test_check_rule_prints_valid_and_the_normalized_query(capsys):
    status, out, err = run_main(capsys, "check-rule", '(espresso OR "latte art") lang:en')
    assert (status, err) == (0, "") and out.startswith("valid: ") and "espresso" in out


def test_check_rule_prints_the_fault_and_position():
    bad = reposter("check-rule", "espresso OR (latte", env={})
    assert bad.returncode == 2 and "position 12" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("argv", [["-x"], ["--", "-x"], ["--scoped", "-x"], ["-x", "--scoped"]])
def test_a_query_may_start_with_a_minus_without_double_dash(capsys, argv):
    status, _, err = run_main(capsys, "check-rule", *argv)
    if "--scoped" in argv:  # a scoped rule may only narrow: valid
        assert status == 0
    else:
        assert status == 2 and "every term is negated" in err and "(position 0)" in err


def test_a_query_in_several_words_starting_with_a_minus(capsys):
    status, out, _ = run_main(capsys, "check-rule", "-is:reply", "espresso")
    assert status == 0 and out.startswith("valid: ") and "-is:reply" in out


@pytest.mark.parametrize(("query", "warned"), [
    ("espresso or latte", ["'or' at position 9 is a plain word here, not an operator; write OR (in capitals)"]),
    ("NOT spam espresso", ["'NOT' at position 0 is a plain word here, not an operator; put - before the term"]),
    ("coffee and tea", ["'and' at position 7 is a plain word here, not an operator; write AND (in capitals)"]),
    ("espresso Or not latte", ["'Or' at position 9", "'not' at position 12"]),
    ('espresso OR latte AND "this or that"', []),
])
def test_check_rule_warns_where_an_operator_like_word_is_a_plain_word(capsys, query, warned):
    status, out, err = run_main(capsys, "check-rule", query)
    assert status == 0 and out.startswith("valid: ")
    lines = err.splitlines()
    assert len(lines) == len(warned)
    for line, expected in zip(lines, warned, strict=True):
        assert line.startswith("warning: ") and expected in line


def test_warnings_come_with_a_fault_too(capsys):
    status, _, err = run_main(capsys, "check-rule", "espresso or (latte")
    assert status == 2 and err.startswith("warning: 'or' at position 9") and "(position 12)" in err


# --- help ---------------------------------------------------------------------------------------

def _commands(parser, path=()):
    """Every runnable command's argv path and parser."""
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        for name, sub in action.choices.items():
            if sub._subparsers:
                yield from _commands(sub, (*path, name))
            else:
                yield (*path, name), sub


def test_every_command_has_a_description_its_defaults_and_the_settings_it_reads(capsys):
    commands = dict(_commands(build_parser()))
    assert {"demo", "serve", "worker", "migrate", "keygen", "check-rule"} <= {p[0] for p in commands}
    assert {("token", "create"), ("token", "list"), ("token", "revoke")} <= set(commands)
    for path, sub in commands.items():
        status, out, _ = run_main(capsys, *path, "--help")
        assert status == 0 and sub.description and len(sub.description) > 20, path
        assert "REPOSTER_LOG_LEVEL (default: " in " ".join(out.split()), path
    helps = {path: " ".join(run_main(capsys, *path, "--help")[1].split()) for path in commands}
    assert "(default: 8000)" in helps[("demo",)] and "(default: reposter-demo.db)" in helps[("demo",)]
    for name in ("DATABASE_URL", "ENCRYPTION_KEY (required, no default)", "HOST", "PORT"):
        assert f"REPOSTER_{name}" in helps[("serve",)], name
    assert "REPOSTER_MAX_ATTEMPTS (default: 6)" in helps[("worker",)]
    assert "(default: admin)" in helps[("token", "create")]
