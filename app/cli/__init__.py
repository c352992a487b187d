"""The `reposter` command: demo, serve, worker, migrate, token, keygen, check-rule, logins.

A mistake is one line on stderr saying what to do, never a traceback: exit status 2 when the command
line or a REPOSTER_* setting is wrong, 1 when the world is (the database does not answer or is not
migrated, a port is taken). Each module here declares its commands with `add_commands`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from app.cli import admin, login, people, processes, rules
from app.cli.parsing import USAGE, CommandError, Parser
from app.cli.preflight import load_settings, stopped
from app.config import Settings
from app.logs import setup_logging

__all__ = ["CommandError", "build_parser", "log_choice", "main"]


def build_parser() -> Parser:
    """The parser of every command."""
    parser = Parser(prog="reposter", description="Rule-based auto-repost service. `reposter COMMAND --help` "
                    "says what a command does, its defaults and the REPOSTER_* settings it reads.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (processes, admin, people, rules, login):
        module.add_commands(sub)
    return parser


# Services log JSON lines for a log collector; people at a terminal read text.
JSON_BY_DEFAULT = ("serve", "worker")


def log_choice(command: str, settings: Settings) -> tuple[str, str]:
    """(format, level) for `command`: REPOSTER_LOG_FORMAT / REPOSTER_LOG_LEVEL when set, else json for
    services and text elsewhere; commands a person runs at a terminal (the demo, logins, tokens...)
    print what they did themselves, so their logs start at WARNING."""
    fmt = settings.log_format or ("json" if command in JSON_BY_DEFAULT else "text")
    quiet = command not in (*JSON_BY_DEFAULT, "migrate") and "log_level" not in settings.model_fields_set
    return fmt, "WARNING" if quiet else settings.log_level


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `reposter` console script."""
    # A SIGTERM before a command has its own handler (serve and worker install theirs once they
    # have checked the database) stops it at once. Without this, `reposter` as a container's PID 1
    # would ignore it (the kernel drops a signal PID 1 has no handler for), and a restart during
    # start-up would wait for the stop timeout and then kill. (Only the main thread may set it.)
    own = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, stopped) if own else None
    try:
        _run(build_parser().parse_args(rules.query_first(sys.argv[1:] if argv is None else argv)))
    finally:
        if own:
            signal.signal(signal.SIGTERM, before)


def _run(args: argparse.Namespace) -> None:
    try:
        _logging(args.command)
        args.func(args)
    except CommandError as exc:
        print(f"{args.command_name}: {exc}", file=sys.stderr)
        sys.exit(exc.status)
    except KeyboardInterrupt:
        print(f"{args.command_name}: stopped", file=sys.stderr)
        sys.exit(130)


def _logging(command: str) -> None:
    fmt, level = log_choice(command, load_settings())
    try:
        setup_logging(fmt=fmt, level=level)
    except ValueError as exc:  # logging's "Unknown level: 'LOUD'"
        raise CommandError(f"REPOSTER_LOG_LEVEL: {exc}; use DEBUG, INFO, WARNING or ERROR", USAGE) from exc
