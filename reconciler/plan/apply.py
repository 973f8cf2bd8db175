"""apply: export what a plan shows — exactly that plan when one was saved — then confirm by importing.

Two phases so the CLI can show the plan and ask between them:

    prepared = prepare(playbook, store, label=…)            # import + sync, committed (the engine's
    ...show prepared.plan, ask...                            #   normal run; nothing is exported yet)
    outcome = execute(prepared, allow_deletes=…)             # thresholds, export, confirming import

With a saved plan, ``prepare_saved`` first checks the playbook digest and the state version (before
anything is written), then imports and synchronizes and compares every change's digest; a stale plan
raises ``StalePlanError`` naming the cause and the command to run. Only the changes of the plan are
exported (``only=``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.engine.runs import STOPPED_CONNECTIVITY
from reconciler.plan.compute import ProgressFn, Snapshot, make_plan, new_engine, synchronize
from reconciler.plan.digest import change_identity
from reconciler.plan.edits import META_KEY, snapshot
from reconciler.plan.planfile import Plan
from reconciler.plan.stale import check_objects, check_playbook, check_state
from reconciler.playbook.model import Playbook


@dataclass
class Prepared:
    """Import and sync done; the plan to show and the engine ready to export it."""

    playbook: Playbook
    store: Any
    engine: Any
    plan: Plan
    snapshot: Snapshot

    def close(self) -> None:
        """Close the engine's connectors."""
        close = getattr(self.engine, "close", None)
        if close is not None:
            close()


@dataclass
class ExportFailure:
    connector: str | None
    dn: str
    error: str


@dataclass
class Outcome:
    """What apply did: exported, confirmed by the next import, not confirmed, failed."""

    plan: Plan
    exported: int = 0
    confirmed: list[str] = field(default_factory=list)  # DNs
    unconfirmed: list[ExportFailure] = field(default_factory=list)
    failed: list[ExportFailure] = field(default_factory=list)  # export errors
    problems: list[ExportFailure] = field(default_factory=list)  # import / sync errors (left out)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems


def prepare(playbook: Playbook, store: Any, *, label: str, progress: ProgressFn | None = None) -> Prepared:
    version = store.state_version()
    engine = new_engine(playbook, store, progress)
    snap = synchronize(engine, store, playbook, version)
    return Prepared(playbook, store, engine, make_plan(playbook, snap, label), snap)


def rerun_command(label: str) -> str:
    return f"reconciler plan {label} --out PLANFILE, review it, then reconciler apply {label} PLANFILE"


def prepare_saved(
    playbook: Playbook, store: Any, saved: Plan, *, label: str, progress: ProgressFn | None = None
) -> Prepared:
    """Like ``prepare``, refusing a stale plan: playbook and state are checked before anything is written."""
    rerun = rerun_command(label)
    check_playbook(saved, playbook.digest(), rerun)
    check_state(saved, store.state_version(), rerun)
    prepared = prepare(playbook, store, label=label, progress=progress)
    try:
        check_objects(saved, prepared.plan, rerun)
    except BaseException:
        prepared.close()
        raise
    return prepared


def execute(prepared: Prepared, *, allow_deletes: int | None = None) -> Outcome:
    """Check the deletion thresholds, export the plan's changes, run the confirming imports."""
    engine, store, plan = prepared.engine, prepared.store, prepared.plan
    outcome = Outcome(plan, problems=[ExportFailure(p.connector, p.dn, p.error) for p in plan.problems])
    if not prepared.snapshot.changes:
        _remember_rules(prepared)
        return outcome
    # export_all checks every connector's deletion threshold before writing anything (exit 3)
    only = {c.key for c in prepared.snapshot.changes}
    plan.release_details()  # shown and checked: the export reads the state, not the deltas
    for c in prepared.snapshot.changes:
        c.attributes = []
    report = engine.export_all(allow_deletes=allow_deletes, only=only)
    outcome.exported = int(getattr(report, "exported", 0))
    # a connector the export could not reach fails as a whole: its error names no object, and none of
    # its changes went out (or can count as confirmed)
    down = {r.connector for r in getattr(report, "runs", []) if r.status == STOPPED_CONNECTIVITY}
    outcome.failed = [ExportFailure(e.connector, "" if e.kind == "connector" else e.dn, e.error)
                      for e in getattr(report, "errors", [])]  # fmt: skip
    failed = {(f.connector, f.dn.lower()) for f in outcome.failed}
    # the confirming import: what the systems now hold is compared with export memory
    written = sorted({r.connector for r in getattr(report, "runs", []) if r.connector and _wrote(r)})
    for name in written:
        engine.import_connector(name)
    unconfirmed = (
        [ExportFailure(e.connector, e.dn, e.error) for e in engine.unconfirmed(written)] if written else []
    )
    outcome.unconfirmed = unconfirmed
    missing = {(u.connector, u.dn.lower()) for u in unconfirmed}
    outcome.confirmed = [
        c.dn
        for c in prepared.snapshot.changes
        if c.connector not in down
        and (c.connector, c.dn.lower()) not in failed and (c.connector, c.dn.lower()) not in missing
    ]
    _remember_rules(prepared)
    store.commit()
    return outcome


def _wrote(run: Any) -> bool:
    return bool(getattr(run, "added", 0) or getattr(run, "changed", 0) or getattr(run, "deleted", 0))


def _remember_rules(prepared: Prepared) -> None:
    prepared.store.set_meta(META_KEY, snapshot(prepared.playbook))
    prepared.store.commit()


def identities(plan: Plan) -> set[str]:
    return {change_identity(c) for c in plan.changes}
