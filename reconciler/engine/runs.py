"""Runs and their history rows; the batch-boundary crash hook used by the crash-safety test."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.plan.model import ImportSummary

PROFILES = {
    "full-import": "full-import", "full import": "full-import",
    "delta-import": "delta-import", "delta import": "delta-import",
    "full-sync": "full-sync", "full synchronization": "full-sync", "full-synchronization": "full-sync",
    "delta-sync": "delta-sync", "delta synchronization": "delta-sync", "delta-synchronization": "delta-sync",
    "export": "export",
}  # fmt: skip

SUCCESS = "success"
COMPLETED_IMPORT_ERRORS = "completed-import-errors"
COMPLETED_SYNC_ERRORS = "completed-sync-errors"
COMPLETED_EXPORT_ERRORS = "completed-export-errors"
STOPPED_THRESHOLD = "stopped-deletion-threshold-exceeded"
STOPPED_CONNECTIVITY = "stopped-connectivity"
STOPPED_ERROR = "stopped-error"

MAX_ERRORS_KEPT = 1000  # per-object errors kept on one history row


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def canonical_profile(profile: str) -> str | None:
    return PROFILES.get(profile.strip().lower().replace("_", "-")) or PROFILES.get(profile.strip().lower())


@dataclass
class ObjectErrorRecord:
    """One per-object error of a run: which object, what went wrong."""

    dn: str
    error: str
    anchor: str | None = None
    connector: str | None = None
    kind: str = "error"  # import-error, sync-error, export-error, unconfirmed, …


@dataclass
class RunResult:
    """One run of a run profile on a connector: the sync-history row."""

    connector: str | None
    profile: str
    start: str = field(default_factory=now_iso)
    end: str | None = None
    object_type: str | None = None
    total: int = 0
    added: int = 0
    changed: int = 0
    deleted: int = 0
    filtered: int = 0
    errors: int = 0
    status: str = SUCCESS
    error_list: list[ObjectErrorRecord] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    history_id: int | None = None

    def error(self, dn: str, message: str, *, anchor: str | None = None, kind: str = "error") -> None:
        self.errors += 1
        if len(self.error_list) < MAX_ERRORS_KEPT:
            self.error_list.append(ObjectErrorRecord(dn, message, anchor, self.connector, kind))

    def row(self) -> dict[str, Any]:
        return {
            "start": self.start, "end": self.end, "connector": self.connector, "profile": self.profile,
            "object_type": self.object_type, "total": self.total, "added": self.added,
            "changed": self.changed, "deleted": self.deleted, "filtered": self.filtered,
            "errors": self.errors, "status": self.status,
            "details": {"errors": [asdict(e) for e in self.error_list], "messages": self.messages},
        }  # fmt: skip

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS


@dataclass
class ExportReport:
    """What an export of every connector did."""

    runs: list[RunResult] = field(default_factory=list)

    @property
    def exported(self) -> int:
        return sum(r.added + r.changed + r.deleted for r in self.runs)

    @property
    def errors(self) -> list[ObjectErrorRecord]:
        return [e for r in self.runs for e in r.error_list]


@dataclass
class CycleResult:
    """A whole cycle: every run in order, what exports were confirmed and what was not."""

    kind: str
    runs: list[RunResult] = field(default_factory=list)
    unconfirmed: list[ObjectErrorRecord] = field(default_factory=list)
    import_summaries: list[ImportSummary] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def status(self) -> str:
        for r in self.runs:
            if r.status == STOPPED_THRESHOLD:
                return r.status
        for r in self.runs:
            if r.status != SUCCESS:
                return r.status
        return SUCCESS


class CrashHook:
    """``RECONCILER_CRASH_AT=<stage>:<n>`` ends the process (exit 137, no cleanup) at the n-th batch
    boundary of that stage: the crash-safety test proves a rerun converges from any boundary."""

    def __init__(self) -> None:
        spec = os.environ.get("RECONCILER_CRASH_AT", "")
        self.stage, _, n = spec.partition(":")
        self.at = int(n) if n.isdigit() else 0
        self.counts: dict[str, int] = {}

    def boundary(self, stage: str) -> None:
        if not self.at:
            return
        count = self.counts.get(stage, 0) + 1
        self.counts[stage] = count
        if stage == self.stage and count == self.at:
            os._exit(137)


def batch_size() -> int:
    value = os.environ.get("RECONCILER_BATCH_SIZE", "")
    # large batches: each commit rewrites every index page its rows touched, so fewer, larger commits
    # write far less at a million objects; memory per batch stays in the tens of megabytes
    return int(value) if value.isdigit() and int(value) > 0 else 20000
