"""Apply without a plan file: a delta cycle end to end (import, sync, export, confirming import).

Kept out of the CLI so that ``reconciler apply`` (and its later plan-file form)
stays a thin layer: it calls ``apply_cycle`` and renders the ``CycleResult``.
"""

from __future__ import annotations

from reconciler.engine.context import Progress
from reconciler.engine.core import Engine, open_state
from reconciler.engine.runs import CycleResult
from reconciler.playbook.model import Playbook


def apply_cycle(
    playbook: Playbook,
    *,
    allow_deletes: int | None = None,
    only: set[str] | None = None,
    kind: str = "delta",
    progress: Progress | None = None,
) -> CycleResult:
    """Run one cycle under the state lock; raises DeletionThresholdError (nothing exported) or
    StateLockedError."""
    store = open_state(playbook)
    try:
        with store.lock(), Engine(playbook, store, progress) as engine:
            return engine.cycle(kind, export=True, allow_deletes=allow_deletes, only=only)
    finally:
        store.close()
