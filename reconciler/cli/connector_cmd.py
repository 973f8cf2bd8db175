"""`reconciler connector test|schema|clear|rescan`."""

from __future__ import annotations

import click

from reconciler.cli.common import handle_errors, not_yet


@click.group("connector")
def command() -> None:
    """Test, read the schema of, clear or rescan a connector."""


@command.command("test")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def test_cmd(playbook: str, connector: str) -> None:
    """Test the connection.  Example: reconciler connector test playbook.yml corp"""
    not_yet("connector test")


@command.command("schema")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def schema_cmd(playbook: str, connector: str) -> None:
    """Read and cache the server schema.  Example: reconciler connector schema playbook.yml corp"""
    not_yet("connector schema")


@command.command("clear")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def clear_cmd(playbook: str, connector: str) -> None:
    """Delete the connector space.  Example: reconciler connector clear playbook.yml corp"""
    not_yet("connector clear")


@command.command("rescan")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@handle_errors
def rescan_cmd(playbook: str, connector: str) -> None:
    """Make the next import full.  Example: reconciler connector rescan playbook.yml corp"""
    not_yet("connector rescan")
