"""Compiled copies of the engine's hot modules, used only while they match their source.

The engine is pure Python, and stays so: every module runs from its ``.py``. What costs is the
interpreter's work per object (a flat profile over dozens of functions), so ``python -m
reconciler.accel`` (``build.py``) compiles the modules of ``COMPILED`` with Cython, each as it is (the same source,
no type declarations, Python's semantics), into ``reconciler/_compiled/<ABI>/`` beside a manifest of
each source's SHA-256. Import + sync of 100,000 people run 12 to 14 % faster compiled; the same
approach as SQLAlchemy's optional Cython extensions.

At import (``install``, from the package's ``__init__``), a finder serves a compiled module only
when its source is, byte for byte, the one it was built from. A source edited since, a module never
built, another interpreter's ABI or ``RECONCILER_PURE_PYTHON=1`` (profilers see no frames inside
compiled code) all mean the ``.py`` is imported, as without this module: a stale build can cost
speed, never behaviour.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PURE_ENV = "RECONCILER_PURE_PYTHON"
ROOT = Path(__file__).resolve().parent.parent  # the package's folder
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # e.g. .cpython-311-x86_64-linux-gnu.so
BUILT = ROOT / "_compiled" / SUFFIX.strip(".").rsplit(".", 1)[0]

# the modules every object passes through, stage by stage (what the profile of a cycle spreads over), and
# those a plan writes and reads each change with
COMPILED: tuple[str, ...] = (
    "reconciler.connectors.files.common",
    "reconciler.connectors.files.csv_connector",
    "reconciler.connectors.files.document",
    "reconciler.connectors.files.file_connector",
    "reconciler.engine.context",
    "reconciler.engine.exporting.stage",
    "reconciler.engine.idset",
    "reconciler.engine.importing.confirm",
    "reconciler.engine.importing.references",
    "reconciler.engine.importing.stage",
    "reconciler.engine.objects",
    "reconciler.engine.planning",
    "reconciler.engine.rules",
    "reconciler.engine.sync.inbound",
    "reconciler.engine.sync.join",
    "reconciler.engine.sync.outbound",
    "reconciler.engine.sync.precedence",
    "reconciler.engine.sync.references",
    "reconciler.engine.sync.scoping",
    "reconciler.engine.sync.staging",
    "reconciler.engine.values",
    "reconciler.expressions.compiler",
    "reconciler.expressions.functions.text",
    "reconciler.expressions.operators",
    "reconciler.expressions.special",
    "reconciler.expressions.values",
    "reconciler.plan.digest",
    "reconciler.plan.planfile",
    "reconciler.store.link_memo",
    "reconciler.store.rows",
    "reconciler.store.sqlite_cs",
    "reconciler.store.sqlite_export",
    "reconciler.store.sqlite_mv",
)


def source_of(name: str, root: Path = ROOT) -> Path:
    """The ``.py`` of a module of the package whose folder is ``root``."""
    return root.joinpath(*name.split(".")[1:]).with_suffix(".py")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state_of(name: str, root: Path, built: Path, manifest: dict[str, str]) -> str:
    """"current" (its binary was built from its source as it is now), "stale" or "missing"."""
    expected = manifest.get(name)
    if expected is None or not (built / f"{name}{SUFFIX}").is_file():
        return "missing"
    try:
        return "current" if digest(source_of(name, root)) == expected else "stale"
    except OSError:
        return "stale"


class CompiledFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled copy of a module when the manifest's digest is its source's."""

    def __init__(self, root: Path, built: Path, manifest: dict[str, str]) -> None:
        self.root = root
        self.built = built
        self.manifest = manifest
        self.loaded: list[str] = []  # served compiled
        self.stale: list[str] = []  # built from another version of the source: imported from it

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:  # fmt: skip
        if name not in self.manifest:
            return None
        if state_of(name, self.root, self.built, self.manifest) != "current":
            self.stale.append(name)
            return None
        self.loaded.append(name)
        binary = self.built / f"{name}{SUFFIX}"
        # the extension's init function is named after the module, not the file: any folder will do
        return importlib.util.spec_from_file_location(
            name, binary, loader=importlib.machinery.ExtensionFileLoader(name, str(binary))
        )


def read_manifest(built: Path) -> dict[str, str]:
    try:
        data = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    modules = data.get("modules") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in modules.items()} if isinstance(modules, dict) else {}


def pure_requested() -> bool:
    """Whether ``RECONCILER_PURE_PYTHON`` asks for the sources alone (set, and not "0")."""
    return os.environ.get(PURE_ENV, "") not in ("", "0")


def install(root: Path = ROOT, built: Path = BUILT) -> CompiledFinder | None:
    """Put the finder first on ``sys.meta_path`` (once), unless disabled or nothing was built."""
    if pure_requested():
        return None
    for f in sys.meta_path:
        if isinstance(f, CompiledFinder) and f.root == root:
            return f
    manifest = read_manifest(built)
    if not manifest:
        return None
    finder = CompiledFinder(root, built, manifest)
    sys.meta_path.insert(0, finder)
    return finder


def active() -> CompiledFinder | None:
    """The finder of this package, if installed."""
    return next((f for f in sys.meta_path if isinstance(f, CompiledFinder) and f.root == ROOT), None)


def status(root: Path = ROOT, built: Path = BUILT) -> tuple[list[str], list[str], list[str]]:
    """(current, stale, missing): compiled modules whose source is unchanged, changed since, never built."""
    manifest = read_manifest(built)
    by_state: dict[str, list[str]] = {"current": [], "stale": [], "missing": []}
    for name in COMPILED:
        by_state[state_of(name, root, built, manifest)].append(name)
    return by_state["current"], by_state["stale"], by_state["missing"]
