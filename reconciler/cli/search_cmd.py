"""`reconciler search cs|mv`: parse, check against the playbook, read the state, print."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from reconciler.cli.common import handle_errors

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
DEFAULT_LIMIT = 100  # reconciler.query.search.DEFAULT_LIMIT, without importing it for --help

F = TypeVar("F", bound=Callable[..., Any])


def output_options(func: F) -> F:
    """--format text|json, --json and --limit, shared by both searches."""
    func = click.option("--json", "as_json", is_flag=True, help="Short for --format json.")(func)
    func = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Output format (json: a list of objects).")(func)  # fmt: skip
    func = click.option("--limit", type=click.IntRange(min=0), default=DEFAULT_LIMIT, show_default=True,
                        help="Show at most N objects (0: all); a line says how many more match.")(func)  # fmt: skip
    return func


@click.group("search")
def command() -> None:
    """Search a connector space or the metaverse."""


@command.command("cs")
@click.argument("playbook", type=click.Path())
@click.argument("connector")
@click.option("--scope", type=click.Choice(SCOPES), required=True, help="What to search by.")
@click.argument("value", required=False)
@output_options
@handle_errors
def search_cs(playbook: str, connector: str, scope: str, value: str | None, limit: int, fmt: str,
              as_json: bool) -> None:  # fmt: skip
    """Connector space search.

    By name: rdn (the first RDN, case-insensitive; a bare value such as jdoe matches any attribute type),
    dn (normalized: case and spaces around separators ignored), anchor (exact, else case-insensitive),
    subtree (the container and every object under it); VALUE names it. By state (no VALUE):
    pending-import, pending-export, import-error (import and synchronization errors), export-error,
    joined, disconnector, placeholder, transient.

    \b
    Example:
      reconciler search cs playbook.yml corp --scope pending-export
      reconciler search cs playbook.yml corp --scope subtree ou=people,dc=example,dc=org
    """
    from reconciler.playbook import load_playbook
    from reconciler.query.search import CS_COLUMNS, cs_query, cs_rows
    from reconciler.query.search import search_cs as run

    pb = load_playbook(playbook)
    query = cs_query(pb, connector, scope, value)  # a mistake is reported before the state is read
    result = _with_state(pb, lambda store: run(store, pb, query, limit))
    _emit(result, CS_COLUMNS, cs_rows, "json" if as_json else fmt)


@command.command("mv")
@click.argument("playbook", type=click.Path())
@click.option("--type", "mv_type", required=True, help="Metaverse object type.")
@click.option("--where", "where", multiple=True, help="attr=value (repeatable).")
@output_options
@handle_errors
def search_mv(playbook: str, mv_type: str, where: tuple[str, ...], limit: int, fmt: str, as_json: bool) -> None:
    """Metaverse search.

    Every --where must hold. Strings compare case-insensitively, binaries exactly, integers and booleans
    by value; a multi-valued attribute matches when any value does; a reference matches the target's
    GUID; attr= (empty) finds objects without the attribute. Shows each object's GUID, the connectors
    it is linked to and its attributes (references by the target's displayName or GUID; sensitive
    values masked).

    \b
    Example:
      reconciler search mv playbook.yml --type person --where employeeId=1001
    """
    from reconciler.playbook import load_playbook
    from reconciler.query.search import MV_COLUMNS, mv_query, mv_rows
    from reconciler.query.search import search_mv as run

    pb = load_playbook(playbook)
    query = mv_query(pb, mv_type, where)
    result = _with_state(pb, lambda store: run(store, pb, query, limit))
    _emit(result, MV_COLUMNS, mv_rows, "json" if as_json else fmt)


def _with_state(pb: Any, search: Callable[[Any], Any]) -> Any:
    """Run ``search`` on the state, read-only; with no state file yet there is nothing to find."""
    from reconciler.query.search import SearchResult
    from reconciler.store import SqliteStore

    if not pb.state_path.exists():
        return SearchResult([], 0, [f"no state yet at {pb.state_path}: run `reconciler apply` first"])
    store = SqliteStore(pb.state_path)  # reading needs no lock: WAL readers never block a run
    try:
        return search(store)
    finally:
        store.close()


def _emit(result: Any, columns: Sequence[str], rows: Callable[[Any], list[tuple[str, ...]]], fmt: str) -> None:
    from reconciler.query.search import summary

    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if fmt == "json":
        click.echo(json.dumps([h.to_json() for h in result.hits], indent=2, ensure_ascii=False))
        if result.more:  # stdout stays one JSON document
            click.echo(summary(result), err=True)
        return
    if result.hits:
        _table(columns, rows(result))
    click.echo(summary(result))


def _table(columns: Sequence[str], rows: list[tuple[str, ...]]) -> None:
    """One line per object. The naming columns keep their width (the library cut long values already);
    the last, the widest, is cut at a terminal's edge, never in a pipe. The widths are set here: left
    to fit, rich drops whole columns from a table wider than the terminal."""
    import shutil

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    widths = [max([len(col), *(len(r[i]) for r in rows)]) for i, col in enumerate(columns)]
    fixed = sum(widths[:-1]) + 2 * (len(columns) - 1)
    if sys.stdout.isatty():
        widths[-1] = max(20, min(widths[-1], shutil.get_terminal_size().columns - fixed))
    table = Table(box=None, header_style="bold", pad_edge=False, collapse_padding=False)
    for col, width in zip(columns, widths):
        table.add_column(col, no_wrap=True, overflow="ellipsis", width=width)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: a value is never read as markup
    Console(width=fixed + widths[-1], highlight=False).print(table)
