"""``python -m reconciler.accel [build | --if-stale | --status]``: compile the hot modules (Cython), only
when one changed since, or say where they stand."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.accel import BUILT, COMPILED, ROOT, SUFFIX, digest, source_of, status


def build(modules: Sequence[str] = COMPILED, root: Path = ROOT, built: Path = BUILT, jobs: int = 2) -> list[str]:
    """Compile ``modules`` (Cython, then the C compiler) into ``built``; returns their names.

    The sources are compiled from a copy, so no ``.c`` file lands beside them; the manifest is written
    last, once every binary is in place (a failed build leaves the previous one or none)."""
    try:
        from Cython.Build import cythonize  # type: ignore[import-not-found,unused-ignore]
        from setuptools import Distribution, Extension
    except ImportError as exc:
        raise RuntimeError(f"compiling needs Cython and setuptools ({exc}); pip install 'reconciler[accel]'") from exc
    digests = {name: digest(source_of(name, root)) for name in modules}
    with tempfile.TemporaryDirectory(prefix="reconciler-accel-") as tmp:
        work = Path(tmp)
        exts: list[Any] = []
        for name in modules:
            copy = work / "src" / source_of(name, root).relative_to(root.parent)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_of(name, root), copy)
            exts.append(Extension(name, [str(copy)]))
        compiled = cythonize(
            exts, quiet=True, nthreads=jobs,
            # Python's semantics throughout: annotations are documentation, not C types
            compiler_directives={"language_level": 3, "annotation_typing": False, "binding": True},
        )  # fmt: skip
        dist = Distribution({"name": "reconciler-accel", "ext_modules": compiled})
        cmd: Any = dist.get_command_obj("build_ext")
        cmd.build_lib, cmd.build_temp, cmd.parallel = str(work / "lib"), str(work / "tmp"), jobs
        cmd.ensure_finalized()
        cmd.run()
        built.mkdir(parents=True, exist_ok=True)
        (built / "manifest.json").unlink(missing_ok=True)  # the old manifest must not vouch for new binaries
        for name in modules:
            # a new file renamed over the old one: a process running the old binary has it mapped, and
            # overwriting it in place would change the code under its feet
            part = built / f".{name}{SUFFIX}.part"
            shutil.copyfile(cmd.get_ext_fullpath(name), part)
            part.replace(built / f"{name}{SUFFIX}")
    manifest = built / "manifest.json"
    part = manifest.with_suffix(".tmp")
    part.write_text(json.dumps({"cython": _cython_version(), "modules": digests}, indent=1, sort_keys=True),
                    encoding="utf-8")  # fmt: skip
    part.replace(manifest)
    return list(modules)


def _cython_version() -> str:
    try:
        import Cython  # type: ignore[import-not-found,unused-ignore]

        return str(Cython.__version__)
    except ImportError:
        return ""


@contextmanager
def _captured(log: Path) -> Iterator[None]:
    """The compilers' output (file descriptors 1 and 2, which they write to directly) into ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("wb") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def main(argv: Sequence[str] | None = None) -> int:
    """Compile (``build``, the default; ``--if-stale``: unless all are current) or report (``--status``);
    exit 1 when compiling failed."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in ("--status", "build", "--if-stale"):
        print("usage: python -m reconciler.accel [build | --if-stale | --status]", file=sys.stderr)
        return 2
    if args and args[0] == "--if-stale" and not any(status()[1:]):
        return 0  # every module compiled from its source as it is now
    if args and args[0] == "--status":
        current, stale, missing = status()
        print(f"accel: {len(current)} compiled and current, {len(stale)} stale (source changed since), "
              f"{len(missing)} not built ({BUILT})")  # fmt: skip
        return 0
    log = Path(tempfile.gettempdir()) / "reconciler-accel-build.log"
    try:
        with _captured(log):
            done = build()
    except Exception as exc:  # no compiler, no Python headers, no Cython: the engine runs as pure Python
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"accel: not compiled ({first}; the compiler's output is in {log}); the engine runs as pure "
              "Python, only slower", file=sys.stderr)  # fmt: skip
        return 1
    log.unlink(missing_ok=True)
    print(f"accel: {len(done)} modules compiled into {BUILT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
