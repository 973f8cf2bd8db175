"""`reconciler search cs|mv`."""

from __future__ import annotations

import click

from reconciler.cli.common import handle_errors, not_yet

SCOPES = [
    "rdn",
    "dn",
    "anchor",
    "subtree",
    "pending-import",
    "pending-export",
    "import-error",
    "export-error",
    "joined",
    "disconnector",
    "placeholder",
    "transient",
]


@click.group("search")
def command() -> None:
    """Search a connector space or the metaverse."""


@command.command("cs")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@click.option("--scope", type=click.Choice(SCOPES), required=True, help="What to search by.")
@click.argument("value", required=False)
@handle_errors
def search_cs(playbook: str, connector: str, scope: str, value: str | None) -> None:
    """Connector space search.

    \b
    Example:
      reconciler search cs playbook.yml corp --scope pending-export
      reconciler search cs playbook.yml corp --scope subtree ou=people,dc=example,dc=org
    """
    not_yet("search cs")


@command.command("mv")
@click.argument("playbook", type=click.Path())
@click.option("--type", "mv_type", required=True, help="Metaverse object type.")
@click.option("--where", "where", multiple=True, help="attr=value (repeatable).")
@handle_errors
def search_mv(playbook: str, mv_type: str, where: tuple[str, ...]) -> None:
    """Metaverse search.

    \b
    Example:
      reconciler search mv playbook.yml --type person --where employeeId=1001
    """
    not_yet("search mv")
