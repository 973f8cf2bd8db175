"""The command line: click commands only. Each verb lives in its own module and is imported
only when it runs, so ``reconciler --help`` stays fast and never imports a connector SDK."""

from __future__ import annotations

import importlib

import click

from reconciler import __version__

# verb -> (module, short help); modules define a click command or group named ``command``
VERBS: dict[str, tuple[str, str]] = {
    "validate": (
        "reconciler.cli.validate_cmd",
        "Check a playbook: schema and meaning, errors as FILE:LINE:COL.",
    ),
    "plan": ("reconciler.cli.plan_cmd", "Show what would change; writes nothing to the state or any system."),
    "show": ("reconciler.cli.show_cmd", "Render a saved plan file."),
    "apply": ("reconciler.cli.apply_cmd", "Export the planned changes and confirm them by importing again."),
    "drift": ("reconciler.cli.drift_cmd", "Report where connected systems differ from the desired state."),
    "run": ("reconciler.cli.run_cmd", "Run one run profile on a connector, or a whole cycle."),
    "search": ("reconciler.cli.search_cmd", "Search a connector space or the metaverse."),
    "explain": ("reconciler.cli.explain_cmd", "Follow one object through the system, rule by rule."),
    "history": ("reconciler.cli.history_cmd", "Show the sync history of runs."),
    "connector": ("reconciler.cli.connector_cmd", "Test, read the schema of, clear or rescan a connector."),
    "expr": ("reconciler.cli.expr_cmd", "Evaluate one expression against attributes."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = VERBS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # short help from the table, so --help imports no verb module
        rows = [(name, short) for name, (_, short) in VERBS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """The version, and whether this process runs the hot modules compiled (a question of any speed report)."""
    if not value or ctx.resilient_parsing:
        return
    from reconciler import accel

    current = accel.status()[0] if accel.active() is not None else []
    if current:
        how = f"{len(current)} of {len(accel.COMPILED)} hot modules compiled"
    elif accel.pure_requested():
        how = f"pure Python: {accel.PURE_ENV} is set"
    else:
        how = "pure Python: `python -m reconciler.accel` compiles the hot modules"
    click.echo(f"reconciler, version {__version__} ({how})")
    ctx.exit()


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version (and whether the hot modules run compiled) and exit.")  # fmt: skip
def cli() -> None:
    """Keep directories in agreement, configured as code.

    \b
    Typical use:
      reconciler validate playbook.yml
      reconciler plan playbook.yml --out plan.json
      reconciler apply playbook.yml plan.json
      reconciler drift playbook.yml --format html > drift.html
    """


def main() -> None:
    """The console script: this process is the reconciler's own, so SQLite is set up for it first."""
    from reconciler.store.sqlite_mode import multithread_for_process

    multithread_for_process()
    cli(prog_name="reconciler")
