"""The sync engine: import → synchronization → export over the state store.

    from reconciler.engine import Engine, open_state
    store = open_state(playbook)
    with store.lock():
        eng = Engine(playbook, store)
        eng.cycle("delta")

Names are resolved lazily so that ``reconciler.store`` can import
``reconciler.engine.objects`` without pulling in the whole engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.engine.core import Engine, open_state
    from reconciler.engine.runs import CycleResult, ExportReport, RunResult

__all__ = ["CycleResult", "Engine", "ExportReport", "RunResult", "open_state"]


def __getattr__(name: str) -> Any:
    if name in ("Engine", "open_state"):
        from reconciler.engine import core

        return getattr(core, name)
    if name in ("RunResult", "CycleResult", "ExportReport"):
        from reconciler.engine import runs

        return getattr(runs, name)
    raise AttributeError(name)
