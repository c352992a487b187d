"""How every `reposter` command is declared: one-line usage mistakes, and a --help that gives the
command's description, its defaults and the REPOSTER_* settings it reads."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from app.config import Settings

USAGE, RUNTIME = 2, 1  # exit statuses: a wrong command line or setting; a failure of the world

Subparsers = argparse._SubParsersAction  # argparse names no public type for it
Handler = Callable[[argparse.Namespace], None]

# What the pipeline reads (worker, serve --with-worker); HOST and PORT only matter to serve.
LOGS = ("log_level", "log_format")
DATABASE = ("database_url",)
PIPELINE = tuple(name for name in Settings.model_fields if name not in ("host", "port", "run_scheduler"))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to an option's help only where there is a default to tell."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


class CommandError(Exception):
    """A mistake or failure reported as one line; `status` is USAGE or RUNTIME."""

    def __init__(self, message: str, status: int = RUNTIME):
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (argparse prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        """Exit with status 2 and one line that points to --help."""
        self.exit(USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def settings_read(names: Sequence[str], *, source: str = "environment or .env") -> str:
    """The --help paragraph naming the settings a command reads, with their defaults (every
    command reads the two log settings)."""
    fields = Settings.model_fields
    shown = [f"REPOSTER_{name.upper()}{_default(name, fields[name].default)}"
             for name in dict.fromkeys((*names, *LOGS))]
    return f"Settings read ({source}): " + ", ".join(shown) + "."


def _default(name: str, value: Any) -> str:
    if name == "log_level":  # see app.cli.log_choice
        return f" (default: {value} for serve, worker and migrate, else WARNING)"
    if name == "log_format":
        return " (default: json for serve and worker, else text)"
    if value == "":
        return " (required, no default)" if name == "encryption_key" else " (default: none)"
    return f" (default: {value})"


def add_command(sub: Subparsers, name: str, handler: Handler | None, summary: str, description: str,
                settings: Sequence[str] = (), source: str = "environment or .env") -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does, its defaults and the settings it reads."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=f"{summary[0].upper()}{summary[1:]}. {description}".strip(),
        epilog=settings_read(settings, source=source), formatter_class=_HelpFormatter)
    if handler is not None:
        parser.set_defaults(func=handler, command_name=parser.prog)
    return parser
