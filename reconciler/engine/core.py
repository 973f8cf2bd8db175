"""The Engine: run profiles, cycles and what plan and drift read (pending exports, disconnectors)."""

from __future__ import annotations

from typing import Any

import reconciler.playbook  # noqa: F401 - first: playbook and connectors.base import each other
from reconciler.connectors.base import Connector
from reconciler.engine.context import Context, Progress
from reconciler.engine.exporting.stage import ExportStage, check_thresholds
from reconciler.engine.gcpause import gc_paused
from reconciler.engine.importing.stage import ImportStage
from reconciler.engine.objects import UNCONFIRMED
from reconciler.engine.runs import (
    STOPPED_THRESHOLD,
    CycleResult,
    ExportReport,
    ObjectErrorRecord,
    RunResult,
    canonical_profile,
    now_iso,
)
from reconciler.engine.sync.inbound import Inbound
from reconciler.engine.sync.join import JoinIndex, ensure_index
from reconciler.engine.sync.outbound import Outbound
from reconciler.errors import DeletionThresholdError, UserError
from reconciler.plan.model import ImportSummary, PlannedChange, UnmanagedObject
from reconciler.playbook.model import Playbook
from reconciler.store.base import StateStore
from reconciler.store.sqlite import SqliteStore


def open_state(playbook: Playbook) -> SqliteStore:
    """Open (creating and migrating) the playbook's state file."""
    return SqliteStore(playbook.state_path)


class Engine:
    def __init__(
        self,
        playbook: Playbook,
        store: StateStore,
        progress: Progress | None = None,
        connectors: dict[str, Connector] | None = None,
    ) -> None:
        self.playbook = playbook
        self.store = store
        self.ctx = Context(playbook, store, progress, connectors)
        self.import_summaries: list[ImportSummary] = []

    def close(self) -> None:
        self.ctx.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enabled_connectors(self) -> list[str]:
        return [n for n, c in self.playbook.connectors.items() if c.enabled]

    # ----------------------------------------------------------- import
    @gc_paused
    def import_connector(self, name: str, full: bool | None = None) -> RunResult:
        self.ctx.config(name)
        stage = ImportStage(self.ctx, name)
        result = stage.run(full)
        self.import_summaries.append(stage.summary)
        return result

    def import_all(self, full: bool | None = None) -> list[RunResult]:
        return [self.import_connector(n, full) for n in self.enabled_connectors()]

    # ----------------------------------------------------------- synchronization
    def _sync_order(self, names: list[str]) -> list[str]:
        """Connectors whose rules project first, so that the others' joins find their MV objects."""
        rules = self.ctx.rules.inbound

        def key(n: str) -> tuple[int, int]:
            rs = rules.get(n, [])
            projects = any(r.rule.project for r in rs)
            prec = min((r.rule.precedence for r in rs), default=1 << 30)
            return (0 if projects else 1 if rs else 2, prec)

        return sorted(names, key=key)

    @gc_paused
    def synchronize(self, name: str | None = None, full: bool | None = None) -> Any:
        """Inbound sync of one connector (or every enabled one, returning a list), then outbound."""
        digest = self.playbook.rules_digest()
        names = [name] if name is not None else self.enabled_connectors()
        if name is not None:
            self.ctx.config(name)
        fulls = {}
        for n in names:
            stored = self.store.get_meta(f"rules_digest:{n}")
            fulls[n] = full if full is not None else stored != digest
        full_set = {n for n, f in fulls.items() if f}
        if self.store.get_meta("rules_digest") != digest:
            # the rules changed: every MV object's outbound flows are evaluated again (the dirty
            # marks are committed with the new digest, so a crash cannot lose them)
            self.store.mark_all_mv_dirty()
            self.store.set_meta("rules_digest", digest)
            self.store.commit()
        ensure_index(self.store, self.ctx.rules.join_attrs, self.ctx.batch)
        results: list[RunResult] = []
        self.ctx.reset_membership()
        self.ctx.mv_cache.clear()
        # MV objects this synchronization may touch: all of them in a full one, plus what is pending
        touched = sum(self.store.count_cs(n, "pending") for n in names) + (self.store.count_mv() if full_set else 0)
        self.ctx.caching = touched <= self.ctx.MV_CACHE_LIMIT
        index = JoinIndex(self.store, self.ctx.rules.join_attrs, preload=bool(full_set))
        self.store.remember_links(True)  # reference lookups read the links this run writes from memory
        try:
            for n in self._sync_order(names):
                result = RunResult(n, "full-sync" if fulls[n] else "delta-sync")
                cfg = self.playbook.connectors[n]
                result.object_type = cfg.object_type or ",".join(cfg.object_types) or None
                inbound = Inbound(self.ctx, index, result, fulls[n], full_set)
                inbound.link_pass(n)
                inbound.flow_pass(n)
                inbound.recompute_marked()
                results.append(result)
            out_result = results[-1] if results else RunResult(None, "delta-sync")
            Outbound(self.ctx, out_result).run()
        finally:
            self.store.remember_links(False)
        self.ctx.mv_cache.clear()
        for n in full_set:
            self.store.set_meta(f"rules_digest:{n}", digest)
        for r in results:
            if r.errors and r.status == "success":
                r.status = "completed-sync-errors"
            r.end = now_iso()
            r.history_id = self.store.add_history(r.row())
        self.store.commit()
        return results[0] if name is not None else results

    def synchronize_all(self, full: bool | None = None) -> list[RunResult]:
        result: list[RunResult] = self.synchronize(None, full)
        return result

    # ----------------------------------------------------------- export
    def check_delete_thresholds(self, allow_deletes: int | None = None, names: list[str] | None = None) -> None:
        check_thresholds(self.ctx, names or self.enabled_connectors(), allow_deletes)

    def _threshold_stop(self, names: list[str], exc: DeletionThresholdError) -> None:
        for n in names:
            r = RunResult(n, "export", status=STOPPED_THRESHOLD)
            r.messages.append(exc.one_line())
            r.end = now_iso()
            self.store.add_history(r.row())
        self.store.commit()

    @gc_paused
    def export_connector(self, name: str, allow_deletes: int | None = None, only: set[str] | None = None
                         ) -> RunResult:  # fmt: skip
        try:
            check_thresholds(self.ctx, [name], allow_deletes)
        except DeletionThresholdError as exc:
            self._threshold_stop([name], exc)
            raise
        return ExportStage(self.ctx, name, only).run()

    @gc_paused
    def export_all(self, allow_deletes: int | None = None, only: set[str] | None = None) -> ExportReport:
        names = [n for n in self.enabled_connectors() if self.store.count_cs(n, "pending_export")]
        try:
            check_thresholds(self.ctx, names, allow_deletes)
        except DeletionThresholdError as exc:
            self._threshold_stop(names, exc)
            raise
        report = ExportReport()
        for n in names:
            if self.ctx.capabilities(n).export:
                report.runs.append(ExportStage(self.ctx, n, only).run())
        return report

    # ----------------------------------------------------------- profiles and cycles
    def run_profile(self, connector: str, profile: str) -> RunResult:
        canon = canonical_profile(profile)
        if canon is None:
            raise UserError(
                f"unknown run profile {profile!r}",
                hint="use full-import, delta-import, full-sync, delta-sync or export",
            )
        if canon == "full-import":
            return self.import_connector(connector, True)
        if canon == "delta-import":
            return self.import_connector(connector, False)
        if canon == "full-sync":
            result: RunResult = self.synchronize(connector, True)
            return result
        if canon == "delta-sync":
            result = self.synchronize(connector, False)
            return result
        return self.export_connector(connector)

    def cycle(self, kind: str = "delta", export: bool = True, allow_deletes: int | None = None,
              only: set[str] | None = None) -> CycleResult:  # fmt: skip
        """Every enabled connector: import, synchronize, export, and a confirming import."""
        full = kind == "full"
        out = CycleResult(kind)
        for n in self.enabled_connectors():
            out.runs.append(self.import_connector(n, True if full else None))
        out.runs.extend(self.synchronize_all(True if full else None))
        if export:
            report = self.export_all(allow_deletes, only)
            out.runs.extend(report.runs)
            exported = [r.connector for r in report.runs if r.connector and (r.added or r.changed or r.deleted)]
            for n in exported:
                out.runs.append(self.import_connector(n, None))
            out.unconfirmed = self.unconfirmed(exported)
        out.import_summaries = list(self.import_summaries)
        return out

    # ----------------------------------------------------------- what plan and drift read
    def unconfirmed(self, connectors: list[str] | None = None) -> list[ObjectErrorRecord]:
        out = []
        for n in connectors or self.enabled_connectors():
            for batch in self.store.iter_cs(n, "unconfirmed", self.ctx.batch):
                for cs in batch:
                    bad = [a for a, e in (cs.export_memory or {}).items() if e.get("s") == UNCONFIRMED]
                    if bad:
                        out.append(ObjectErrorRecord(cs.dn, "exported-change-not-reimported: " + ", ".join(sorted(bad)),
                                                     cs.anchor, n, "unconfirmed"))  # fmt: skip
        return out

    @gc_paused
    def planned_changes(self) -> list[PlannedChange]:
        from reconciler.engine.planning import planned_changes

        return planned_changes(self.ctx)

    @gc_paused
    def unmanaged(self) -> list[UnmanagedObject]:
        from reconciler.engine.planning import unmanaged

        return unmanaged(self.ctx)
