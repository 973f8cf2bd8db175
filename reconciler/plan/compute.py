"""Computing a plan or a drift report from the engine, inside a dry run: nothing is committed.

The only module of the plan stage that drives the engine. It imports (connected systems are read,
never written), synchronizes with the playbook as it is (the engine decides on a full sync when the
rules changed), collects the pending exports and unmanaged objects, and rolls everything back, so a
plan of an unmerged change can never be exported by a later run and planning never makes an earlier
plan stale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.engine.runs import STOPPED_CONNECTIVITY
from reconciler.errors import ConnectionFailed
from reconciler.plan.drift import DriftReport, build_report
from reconciler.plan.edits import META_KEY, rule_edits
from reconciler.plan.model import ImportSummary, ObjectProblem, PlannedChange, UnmanagedObject
from reconciler.plan.planfile import Plan
from reconciler.plan.redact import Redactor
from reconciler.playbook.model import Playbook

ProgressFn = Callable[..., None]
RULES_DIGEST_KEY = "rules_digest"  # where the engine records the rules of its last synchronization


@dataclass
class Snapshot:
    """What the engine holds after import + sync: the raw (unredacted) changes and their context."""

    changes: list[PlannedChange]
    unmanaged: list[UnmanagedObject]
    imports: list[ImportSummary]
    watermarks: dict[str, str | None]
    state_version: int  # before the import: what a later apply compares
    rules_changed: bool
    applied_rules: str | None
    problems: list[ObjectProblem]


def watermarks(store: Any, playbook: Playbook) -> dict[str, str | None]:
    """Each connector's import watermark (delta position), as far as the store knows it."""
    if hasattr(store, "watermarks"):
        return dict(store.watermarks())
    return {name: (store.connector_state(name) or {}).get("watermark") for name in playbook.connectors}


def new_engine(playbook: Playbook, store: Any, progress: ProgressFn | None) -> Any:
    from reconciler.engine import Engine

    return Engine(playbook, store, progress=progress)


def synchronize(engine: Any, store: Any, playbook: Playbook, state_version: int) -> Snapshot:
    """Import everything and synchronize; collect the plan's raw material (the caller owns the transaction)."""
    before_digest = store.get_meta(RULES_DIGEST_KEY)
    applied = store.get_meta(META_KEY)
    imported = engine.import_all()
    _check_reached(imported)
    runs = [*imported, *engine.synchronize_all(full=None)]
    return Snapshot(
        changes=list(engine.planned_changes()),
        unmanaged=list(engine.unmanaged()),
        imports=list(getattr(engine, "import_summaries", []) or []),
        watermarks=watermarks(store, playbook),
        state_version=state_version,
        rules_changed=before_digest is not None and before_digest != playbook.rules_digest(),
        applied_rules=applied,
        problems=problems_of(runs),
    )


def _check_reached(runs: list[Any]) -> None:
    """A plan computed without a connector's objects would add what it already holds and miss what
    changed in it: a connector that could not be read stops the plan (and so the apply) as a whole."""
    down = [r for r in runs if getattr(r, "status", None) == STOPPED_CONNECTIVITY]
    if down:
        what = "; ".join(r.messages[0] if r.messages else f"connector {r.connector} could not be read" for r in down)
        raise ConnectionFailed(
            f"{what}; nothing was planned or exported",
            hint="a plan reads every enabled connector: run again once it answers, or set `enabled: false` on it",
        )


def problems_of(runs: list[Any]) -> list[ObjectProblem]:
    """Per-object errors of engine runs (RunResult.error_list), in run order."""
    return [
        ObjectProblem(e.connector or run.connector or "", e.dn, e.error, e.kind)
        for run in runs
        for e in getattr(run, "error_list", None) or []
    ]


def make_plan(playbook: Playbook, snap: Snapshot, label: str) -> Plan:
    return Plan.build(
        snap.changes,
        redactor=Redactor.for_playbook(playbook),
        playbook=label,
        playbook_digest=playbook.digest(),
        state_version=snap.state_version,
        watermarks=snap.watermarks,
        imports=snap.imports,
        unmanaged=snap.unmanaged,
        rule_edits=rule_edits(playbook, snap.applied_rules),
        rules_changed=snap.rules_changed,
        problems=snap.problems,
    )


def dry_snapshot(playbook: Playbook, store: Any, progress: ProgressFn | None = None) -> Snapshot:
    """Import and synchronize in a dry run (rolled back): the state is exactly as it was afterwards."""
    version = store.state_version()
    with store.dry_run(), new_engine(playbook, store, progress) as engine:
        return synchronize(engine, store, playbook, version)


def compute_plan(playbook: Playbook, store: Any, *, label: str, progress: ProgressFn | None = None) -> Plan:
    """The plan of a playbook against the systems as they are now; commits nothing."""
    return make_plan(playbook, dry_snapshot(playbook, store, progress), label)


def compute_drift(
    playbook: Playbook, store: Any, *, label: str, progress: ProgressFn | None = None
) -> DriftReport:
    """The drift report; commits nothing. Values are redacted exactly as in a plan."""
    plan = compute_plan(playbook, store, label=label, progress=progress)
    return build_report(plan.changes, plan.unmanaged, playbook=label, imports=plan.imports)
