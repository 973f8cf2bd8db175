"""Helpers every file connector shares: DN building, value formatting, hashing, atomic rewrite.

Values travel in two forms. The engine hands typed values (bool, int, datetime, bytes, lists);
a file holds its own form: text for CSV and LDIF (LDIF keeps bytes that are not UTF-8), JSON
types for JSON. ``to_text`` / ``to_json_value`` convert the first into the second on export.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from reconciler.errors import ConnectorError

#: Several anchor attributes make one anchor: their values joined with this separator.
ANCHOR_SEPARATOR = "|"
#: The watermark of a file that does not exist (an empty connected system).
ABSENT = "absent"

# RFC 4514: characters escaped anywhere in an attribute value; leading '#'/space and trailing space too
_DN_SPECIAL = re.compile(r'[,+"\\<>;\x00]')


def escape_dn_value(value: str) -> str:
    """Escape an attribute value for a DN (RFC 4514), leaving it alone when nothing needs escaping."""
    if value.isalnum() or (
        not _DN_SPECIAL.search(value) and value[:1] not in ("#", " ") and value[-1:] != " "
    ):
        return value
    out = _DN_SPECIAL.sub(lambda m: "\\00" if m.group() == "\x00" else "\\" + m.group(), value)
    if out[:1] in ("#", " "):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


def iso_utc(value: datetime) -> str:
    """A datetime as ISO-8601 UTC ending in ``Z`` (a naive datetime is UTC, as the metaverse has it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def generalized_time(value: datetime) -> str:
    """A datetime in LDAP's GeneralizedTime form (``20240131120000Z``), as LDIF files carry it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    text = value.strftime("%Y%m%d%H%M%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def to_text(value: Any, *, true: str = "true", false: str = "false") -> str:
    """One engine value as text: booleans as ``true``/``false``, datetimes ISO-8601 Z, bytes base64."""
    if isinstance(value, str):
        return str(value)  # str() drops subclasses (references) so writers see plain text
    if isinstance(value, bool):
        return true if value else false
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_json_value(value: Any) -> Any:
    """One engine value as JSON: numbers, booleans and strings keep their type; others become text."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    return to_text(value)


def normalize_values(value: Any, convert: Callable[[Any], Any]) -> Any:
    """An engine attribute value in file form: ``None`` for absent (``""`` is absent too), a list for several."""
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        items = [c for c in (convert(v) for v in value if v is not None) if c != ""]
        return items or None
    value = convert(value)
    return None if value == "" else value


def record_hash(data: bytes, salt: bytes = b"") -> str:
    """A stable digest of one record (``hash()`` is randomized per process, so it cannot be stored)."""
    return hashlib.blake2b(data, digest_size=16, person=salt[:16]).hexdigest()


def file_digest(data: bytes) -> str:
    """The watermark of a whole file: equal digests mean the file did not change."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def read_file(path: Path, connector: str) -> bytes | None:
    """The file's bytes, or None when it does not exist (an empty connected system)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError as exc:
        raise ConnectorError(
            f"{path} is a directory", connector=connector, hint="set `path` to a file"
        ) from exc
    except OSError as exc:
        raise ConnectorError(
            f"{path} cannot be read: {exc.strerror}", connector=connector, hint="check its permissions"
        ) from exc


def decode_text(data: bytes, path: Path, connector: str, encoding: str = "utf-8") -> str:
    """The file's text (a UTF-8 byte-order mark is dropped); an error names the byte and its line."""
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConnectorError(
            f"{path.name}: line {line}: not {encoding} (byte {exc.start})",
            connector=connector,
            hint=f"save the file as {encoding}, or set the connector's `encoding`",
        ) from exc


def atomic_write(
    path: Path, write: Callable[[IO[str]], None], connector: str, encoding: str = "utf-8"
) -> None:
    """Rewrite ``path`` all at once: a temporary file in the same folder, fsync, then rename over it.

    A failure at any point leaves the old file as it was (and no temporary file behind): readers
    see either the old content or the new, never half of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding=encoding, newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep the permissions the file had
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except (OSError, UnicodeError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConnectorError(
            f"{path} cannot be written: {reason}; the file is unchanged", connector=connector
        ) from exc


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a whole file is held in memory.

    Records are acyclic (reference counting frees them), but a file of 100,000 records makes
    hundreds of thousands of containers, and each full collection scans them all: pausing it
    during an export halves its time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); some platforms cannot open a folder, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
