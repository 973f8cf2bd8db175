"""Progress of long imports and exports: a rich progress bar on a terminal, plain lines in CI.

The engine calls ``progress(stage, done, total)`` (``total`` may be None when unknown). On a terminal
each stage gets a bar on stderr (cleared when the run ends); without one (a pipeline log) a stage
that has run for ``delay`` seconds prints a plain line, then one every ``interval`` seconds and one
when it ends — never a carriage-return animation, and nothing at all for quick stages.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any


class Progress:
    """A context manager whose instance is the engine's progress callback."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        tty: bool | None = None,
        interval: float = 10.0,
        delay: float = 2.0,
        enabled: bool = True,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval
        self.delay = delay
        self._start: dict[str, float] = {}
        self.enabled = enabled
        self._rich: Any = None
        self._tasks: dict[str, Any] = {}
        self._last: dict[str, float] = {}
        self._done: dict[str, tuple[int, int | None]] = {}

    def __enter__(self) -> Progress:
        # re-enterable: apply stops the display while it asks for confirmation, then resumes it
        self._tasks = {}
        if self.enabled and self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._rich.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        elif self.enabled:
            for stage, (done, total) in self._done.items():
                last = self._last.get(stage)
                if last is not None and last >= 0:
                    self._line(stage, done, total, "done" if exc is None else "stopped")

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        if self._rich is not None:
            task = self._tasks.get(stage)
            if task is None:
                task = self._tasks[stage] = self._rich.add_task(stage, total=total)
            self._rich.update(task, completed=done, total=total)
            return
        now = time.monotonic()
        self._done[stage] = (done, total)
        start = self._start.setdefault(stage, now)
        finished = total is not None and done >= total
        last = self._last.get(stage)
        if finished:
            if last is not None and last >= 0:  # it spoke while running: say it ended
                self._line(stage, done, total, "done")
            self._last[stage] = -1.0
        else:
            first = last is None and now - start >= self.delay
            again = last is not None and last >= 0 and now - last >= self.interval
            if first or again:
                self._line(stage, done, total, "")
                self._last[stage] = now

    def _line(self, stage: str, done: int, total: int | None, state: str) -> None:
        of = f"/{total}" if total is not None else ""
        suffix = f" {state}" if state else ""
        self.stream.write(f"{stage}: {done}{of}{suffix}\n")
        self.stream.flush()
