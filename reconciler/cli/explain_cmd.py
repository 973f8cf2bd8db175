"""`reconciler explain`."""

from __future__ import annotations

import click

from reconciler.cli.common import format_option, handle_errors, not_yet  # noqa: F401


@click.command("explain")
@click.argument("playbook", type=click.Path())
@click.argument("object_id")
@click.option("--preview", is_flag=True, help="Re-read the object live and show what a sync would do.")
@handle_errors
def command(playbook, object_id, preview) -> None:  # type: ignore[no-untyped-def]
    """Follow one object through the system: source CS -> MV -> target CS.

    OBJECT is a DN, an anchor, or CONNECTOR:DN.

    \b
    Example:
      reconciler explain playbook.yml "uid=jdoe,ou=people,dc=example,dc=org"
    """
    not_yet("explain")
