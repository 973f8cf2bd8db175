"""`reconciler explain`."""

from __future__ import annotations

import click

from reconciler.cli.common import fail, format_option, handle_errors
from reconciler.cli.plan_cmd import emit, output_format
from reconciler.engine.gcpause import gc_paused


@click.command("explain")
@click.argument("playbook", type=click.Path())
@click.argument("object_id", metavar="OBJECT")
@click.option("--preview", is_flag=True, help="Re-read the object live and show what a sync would do.")
@format_option()
@handle_errors
@gc_paused  # a preview imports and synchronizes everything, as plan does
def command(playbook, object_id, preview, fmt, as_json) -> None:  # type: ignore[no-untyped-def]
    """Follow one object through the system: source CS -> MV -> target CS.

    Shows each connector-space object linked to the object's metaverse object (link, rule, pending
    import and export, export memory, errors, attributes), and for each metaverse attribute the
    connector and sync rule that contributed it; for an object not joined, why. Sensitive values are
    masked. --preview imports and synchronizes in a dry run (under the run lock; nothing is committed or
    exported) and shows what would change. Formats: text, md, json.

    OBJECT is a DN, an anchor, CONNECTOR:DN, CONNECTOR:ANCHOR, or a metaverse (or connector space)
    GUID. When it matches several objects, explain lists them as CONNECTOR:DN to pick from.

    \b
    Example:
      reconciler explain playbook.yml "uid=jdoe,ou=people,dc=example,dc=org"
      reconciler explain playbook.yml hr:1001 --preview
      reconciler explain playbook.yml 9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f --json
    """
    from reconciler.playbook import load_playbook
    from reconciler.query.explain import NOTHING_IMPORTED_HINT, Explanation, explain
    from reconciler.query.explain_preview import Preview
    from reconciler.query.explain_preview import preview as run_preview
    from reconciler.query.explain_render import FORMATS, render
    from reconciler.store import SqliteStore

    fmt = output_format(fmt, as_json)
    if fmt not in FORMATS:
        fail(f"explain prints {', '.join(FORMATS)}, not {fmt} (use --format text, md or json)")
    pb = load_playbook(playbook)
    if not preview and not pb.state_path.exists():
        fail(f"nothing imported yet: there is no state at {pb.state_path} ({NOTHING_IMPORTED_HINT})")
    result: Explanation | Preview
    store = SqliteStore(pb.state_path)  # a preview creates it, as plan does; reading needs no lock (WAL)
    try:
        if preview:
            from reconciler.plan.progress import Progress

            with Progress() as progress:
                result = run_preview(pb, store, object_id, progress=progress)
        else:
            result = explain(pb, store, object_id)
    finally:
        store.close()
    emit(render(result, fmt))
