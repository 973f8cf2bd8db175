"""Helpers shared by the CLI commands: error mapping, exit codes, output format options."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from reconciler.errors import Bug, ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_SAFETY_GATE = 3

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn domain errors into one line on stderr and their exit code; only a Bug shows a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Bug:
            raise
        except ReconcilerError as exc:
            fail(exc.one_line(), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; the state keeps every committed step, run again to converge", 130)

    return wrapper  # type: ignore[return-value]


def format_option(default: str = "text") -> Callable[[F], F]:
    """--format text|md|json|html and --json (short for --format json)."""

    def decorate(func: F) -> F:
        func = click.option("--json", "as_json", is_flag=True, help="Short for --format json.")(func)
        func = click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "md", "json", "html"]),
            default=default,
            show_default=True,
            help="Output format.",
        )(func)
        return func

    return decorate
