"""Date / Time: DateAdd, DateFromNum, FormatDateTime, Now, NumFromDate — and the date reader of CDate.

A DateTime is a timezone-aware UTC ``datetime``. A date or time written
without a time zone is read as UTC. ``FormatDateTime`` takes .NET custom date
and time format strings (``yyyy-MM-dd HH:mm:ss``; ``MM`` month, ``mm``
minute) and the one-letter standard formats, with the invariant culture.
"""

from __future__ import annotations

import calendar
import functools
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from reconciler.expressions.functions import function
from reconciler.expressions.values import fail

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

_DATE_TIME = re.compile(
    r"""^\s*
    (?:(?P<y1>\d{4})[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})      # 2013-01-10, 2013/1/10
      |(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4}))              # 12/25/2007 (month first)
    (?:(?:\s+|T)
       (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?
       \s*(?P<ampm>[AaPp]\.?[Mm]\.?)?
    )?
    \s*(?P<tz>Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?
    \s*$""",
    re.VERBOSE,
)
_GENERALIZED = re.compile(
    r"^\s*(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?:\d{2})?)?\s*$"
)
_WORDY_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")


def _zone(text: str | None) -> timezone:
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 14 or minutes > 59:
        raise ValueError("time zone offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _fraction(text: str | None) -> int:
    return int((text or "0").ljust(6, "0")[:6])


@functools.lru_cache(maxsize=1024)
def parse_date(text: str) -> datetime | None:
    """The UTC DateTime ``text`` spells, or None when it is not a date."""
    try:
        return _parse_date(text)
    except (ValueError, OverflowError):
        return None


def _parse_date(text: str) -> datetime | None:
    m = _DATE_TIME.match(text)
    if m:
        g = m.groupdict()
        year = int(g["y1"] or g["y2"])
        month = int(g["m1"] or g["m2"])
        day = int(g["d1"] or g["d2"])
        hour = int(g["H"] or 0)
        minute = int(g["M"] or 0)
        ampm = (g["ampm"] or "").replace(".", "").upper()
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm == "PM" else 0)
        local = datetime(year, month, day, hour, minute, int(g["S"] or 0), _fraction(g["F"]), _zone(g["tz"]))
        return local.astimezone(UTC)
    m = _GENERALIZED.match(text)
    if m:
        y, mo, d, h, mi, s, f, tz = m.groups()
        local = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), _fraction(f), _zone(tz))
        return local.astimezone(UTC)
    stripped = text.strip()
    for fmt in _WORDY_FORMATS:
        try:
            return datetime.strptime(stripped, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    if "," in stripped or ":" in stripped:
        try:
            rfc = parsedate_to_datetime(stripped)
        except (TypeError, ValueError, IndexError):
            return None
        if rfc is not None:
            return rfc.replace(tzinfo=UTC) if rfc.tzinfo is None else rfc.astimezone(UTC)
    return None


def _add_months(date: datetime, months: int) -> datetime:
    total = date.year * 12 + (date.month - 1) + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise OverflowError
    day = min(date.day, calendar.monthrange(year, month + 1)[1])
    return date.replace(year=year, month=month + 1, day=day)


_INTERVALS = ("yyyy", "q", "m", "y", "d", "w", "ww", "h", "n", "s")


@function("DateAdd", "enum, num, dt", group="Date / Time", enums={0: _INTERVALS})
def date_add(interval: str, value: int, date: datetime) -> datetime:
    key = interval.lower()
    try:
        if key == "yyyy":
            return _add_months(date, 12 * value)
        if key == "q":
            return _add_months(date, 3 * value)
        if key == "m":
            return _add_months(date, value)
        if key in ("y", "d", "w"):
            return date + timedelta(days=value)
        if key == "ww":
            return date + timedelta(weeks=value)
        if key == "h":
            return date + timedelta(hours=value)
        if key == "n":
            return date + timedelta(minutes=value)
        if key == "s":
            return date + timedelta(seconds=value)
    except OverflowError:
        fail("DateAdd", "the result is outside the years 1 to 9999")
    fail("DateAdd", f"unknown interval {interval!r} (use one of {', '.join(_INTERVALS)})")


@function("DateFromNum", "num", group="Date / Time")
def date_from_num(value: int) -> datetime:
    """A DateTime from AD's date format (100-ns intervals since 1601-01-01 UTC)."""
    try:
        return FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        fail("DateFromNum", f"{value} is outside the dates a DateTime can hold")


@function("NumFromDate", "dt", group="Date / Time")
def num_from_date(value: datetime) -> int:
    delta = value - FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


function("Now", "", group="Date / Time", special=True, pure=False)(lambda: None)

# -- FormatDateTime ---------------------------------------------------------------
_STANDARD = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "M": "MMMM dd",
    "m": "MMMM dd",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "U": "dddd, dd MMMM yyyy HH:mm:ss",
    "Y": "yyyy MMMM",
    "y": "yyyy MMMM",
}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _field(ch: str, count: int, d: datetime) -> str:
    if ch == "y":
        if count <= 2:
            return f"{d.year % 100:0{count}d}"
        return f"{d.year:0{count}d}"
    if ch == "M":
        if count <= 2:
            return f"{d.month:0{count}d}"
        return _MONTHS[d.month - 1][:3] if count == 3 else _MONTHS[d.month - 1]
    if ch == "d":
        if count <= 2:
            return f"{d.day:0{count}d}"
        return _DAYS[d.weekday()][:3] if count == 3 else _DAYS[d.weekday()]
    if ch == "H":
        return f"{d.hour:0{min(count, 2)}d}"
    if ch == "h":
        return f"{(d.hour % 12) or 12:0{min(count, 2)}d}"
    if ch == "m":
        return f"{d.minute:0{min(count, 2)}d}"
    if ch == "s":
        return f"{d.second:0{min(count, 2)}d}"
    if ch in "fF":
        digits = f"{d.microsecond:06d}0"[: min(count, 7)].ljust(count, "0")
        return digits.rstrip("0") if ch == "F" else digits
    if ch == "t":
        marker = "AM" if d.hour < 12 else "PM"
        return marker[:1] if count == 1 else marker
    if ch == "z":
        # DateTimes are UTC, so the offset is always zero
        return "+0" if count == 1 else ("+00" if count == 2 else "+00:00")
    if ch == "K":
        return "Z"
    if ch == "g":
        return "A.D."
    raise AssertionError(ch)


@functools.lru_cache(maxsize=256)
def _tokens(fmt: str) -> tuple[tuple[str, int] | str, ...]:
    """A format string → (letter, count) fields and literal strings."""
    if len(fmt) == 1 and fmt in _STANDARD:
        fmt = _STANDARD[fmt]
    out: list[tuple[str, int] | str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch in "yMdHhmsfFtzKg":
            j = i
            while j < n and fmt[j] == ch:
                j += 1
            out.append((ch, j - i))
            i = j
        elif ch in "'\"":
            j = fmt.find(ch, i + 1)
            if j < 0:
                fail("FormatDateTime", f"the quote at position {i + 1} of the format is not closed")
            out.append(fmt[i + 1 : j])
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            out.append(fmt[i + 1])
            i += 2
        elif ch == "%" and i + 1 < n:
            i += 1  # "%d" is the custom field d alone
        else:
            out.append(ch)
            i += 1
    return tuple(out)


@function("FormatDateTime", "dt, str", group="Date / Time")
def format_date_time(value: datetime, fmt: str) -> str:
    d = value.astimezone(UTC)
    return "".join(t if isinstance(t, str) else _field(t[0], t[1], d) for t in _tokens(fmt))
