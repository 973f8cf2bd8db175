"""`reconciler connector test|schema|clear|rescan`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from reconciler.cli.common import handle_errors


@click.group("connector")
def command() -> None:
    """Test, read the schema of, clear or rescan a connector.

    \b
    Example:
      reconciler connector test playbook.yml corp
      reconciler connector rescan playbook.yml hr
    """


def _open(playbook: str, connector: str) -> tuple[Any, Any]:
    from reconciler.playbook import load_playbook

    pb = load_playbook(playbook)
    if connector not in pb.connectors:
        known = ", ".join(sorted(pb.connectors)) or "none"
        raise click.BadParameter(f"no connector named {connector!r} in the playbook (connectors: {known})",
                                 param_hint="CONNECTOR")  # fmt: skip
    return pb, pb.connectors[connector]


@command.command("test")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def test_cmd(playbook: str, connector: str) -> None:
    """Test the connection.  Example: reconciler connector test playbook.yml corp"""
    from reconciler.engine.context import open_connector

    _, cfg = _open(playbook, connector)
    with open_connector(cfg) as conn:
        click.echo(f"{connector}: ok: {conn.test()}")


@command.command("schema")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def schema_cmd(playbook: str, connector: str) -> None:
    """Read and cache the server schema.  Example: reconciler connector schema playbook.yml corp"""
    from reconciler.engine import open_state
    from reconciler.engine.context import open_connector

    pb, cfg = _open(playbook, connector)
    with open_connector(cfg) as conn:
        schema = conn.schema()
    store = open_state(pb)
    try:
        with store.lock():
            store.set_connector_state(connector, schema=schema.to_json(),
                                      schema_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))  # fmt: skip
            store.commit()
    finally:
        store.close()
    for otype, attrs in schema.object_types.items():
        click.echo(f"{otype}: {len(attrs)} attributes")
        for a in sorted(attrs.values(), key=lambda a: a.name.lower()):
            flags = [a.type] + (["multi"] if a.multivalued else []) + (["reference"] if a.reference else [])
            flags += ["write-only"] if a.write_only else []
            click.echo(f"  {a.name} ({', '.join(flags)})")
    click.echo(f"schema of {connector} cached in the state; validate reads it from there")


@command.command("clear")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def clear_cmd(playbook: str, connector: str, yes: bool) -> None:
    """Delete the connector space.  Example: reconciler connector clear playbook.yml corp --yes"""
    from reconciler.engine import open_state

    pb, _ = _open(playbook, connector)
    if not yes:
        click.confirm(f"delete every object of {connector}'s connector space?", abort=True)
    store = open_state(pb)
    try:
        with store.lock():
            linked = store.linked_mv_ids(connector)
            n = store.clear_connector_space(connector)
            store.set_mv_dirty_level(linked, 2)  # their MV objects are recomputed at the next sync
            store.commit()
    finally:
        store.close()
    click.echo(f"{connector}: {n} objects deleted from its connector space; the next import is full")


@command.command("rescan")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def rescan_cmd(playbook: str, connector: str) -> None:
    """Make the next import full.  Example: reconciler connector rescan playbook.yml corp"""
    from reconciler.engine import open_state

    pb, _ = _open(playbook, connector)
    store = open_state(pb)
    try:
        with store.lock():
            store.set_connector_state(connector, full_scan_next_run=True)
            store.commit()
    finally:
        store.close()
    click.echo(f"{connector}: the next import is a full import")
