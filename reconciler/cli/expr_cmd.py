"""``reconciler expr``: evaluate one expression against an object's attributes.

Kept light at import time: the expression package is imported when the
command runs, not when the CLI group is built.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click

_EPILOG = """\b
Examples:
  reconciler expr '[givenName] & " " & [sn]' --attrs '{"givenName": "Ada", "sn": "Lovelace"}'
  reconciler expr 'Join(Trim([proxyAddresses]), ";")' --attrs '{"proxyAddresses": [" SMTP:a@x ", "smtp:b@x"]}'
  reconciler expr '%Domain.Netbios% & "\\" & [sAMAccountName]' --param Domain.Netbios=CONTOSO --attrs '{"sAMAccountName": "ada"}'
  reconciler expr 'DateAdd("d", 30, Now())' --now 2024-01-31T00:00:00Z
"""


def _load_json(option: str, text: str) -> dict[str, Any]:
    from reconciler.errors import UserError

    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise UserError(f"{option}: cannot read {text[1:]}: {exc.strerror}") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{option} is not valid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(value, dict):
        raise UserError(f"{option} must be a JSON object of attribute names to values")
    return value


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    from reconciler.errors import UserError

    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().strip("%")
        if not sep or not name:
            raise UserError(
                f"--param {pair!r} must be NAME=VALUE", hint="for example --param Domain.Netbios=CONTOSO"
            )
        params[name] = value
    return params


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    from reconciler.errors import UserError
    from reconciler.expressions.functions.datetime_fns import parse_date

    value = parse_date(text)
    if value is None:
        raise UserError(f"--now {text!r} is not a date", hint="for example 2024-01-31T08:00:00Z")
    return value


@click.command("expr", epilog=_EPILOG)
@click.argument("expression")
@click.option(
    "--attrs",
    "attrs_json",
    metavar="JSON",
    default="{}",
    help="The object's attributes as a JSON object (a list is multi-valued); @FILE reads a file.",
)
@click.option(
    "--param", "params", metavar="NAME=VALUE", multiple=True, help="A %NAME% parameter (repeatable)."
)
@click.option(
    "--imported",
    "imported_json",
    metavar="JSON",
    default=None,
    help="Imported (confirmed) values for ImportedValue(); defaults to --attrs.",
)
@click.option(
    "--now",
    "now_text",
    metavar="DATETIME",
    default=None,
    help="The time Now() returns (default: the current UTC time).",
)
def command(
    expression: str, attrs_json: str, params: tuple[str, ...], imported_json: str | None, now_text: str | None
) -> None:
    """Evaluate EXPRESSION (Entra Connect Sync declarative provisioning syntax) and print the result as JSON.

    The result is one line of JSON: null for no value, a list for a
    multi-valued result, a date/time as ISO-8601 UTC ending in Z, binary as
    Base64, and "IgnoreThisFlow" / "AuthoritativeNull" as strings. A syntax or
    evaluation error exits 1 with a one-line message.
    """
    from reconciler.errors import ReconcilerError

    try:
        from reconciler.expressions import compile_expression, to_json_value

        attrs = _load_json("--attrs", attrs_json)
        imported = _load_json("--imported", imported_json) if imported_json is not None else None
        compiled = compile_expression(expression)
        result = compiled.evaluate(attrs, _parse_params(params), imported=imported, now=_parse_now(now_text))
        click.echo(json.dumps(to_json_value(result), ensure_ascii=False))
    except ReconcilerError as exc:
        click.echo("error: " + exc.one_line(), err=True)
        sys.exit(exc.exit_code if exc.exit_code else 1)


if __name__ == "__main__":  # pragma: no cover - exercised by the subprocess test
    command()
