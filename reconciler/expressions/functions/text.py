"""Text: Guid, InStr, InStrRev, LCase, Left, Len, LTrim, Mid, PadLeft, PadRight, PCase,
Replace, ReplaceChars, Right, RTrim, Trim, UCase, Word (plus the RegexReplace extension).

Positions are 1-based as in VBA. ``Left``, ``Right``, ``Mid``, ``PadLeft``,
``PadRight`` and ``Word`` return "" for a NULL string, as documented; the
others give NULL for NULL.
"""

from __future__ import annotations

import functools
import re
import uuid

from reconciler.expressions.functions import function
from reconciler.expressions.values import fail

_COMPARE = ("vbTextCompare", "vbBinaryCompare")


def _text_compare(compare: str | None, function_name: str) -> bool:
    if compare is None:
        return False
    key = compare.lower()
    if key == "vbtextcompare":
        return True
    if key == "vbbinarycompare":
        return False
    fail(function_name, f"compare must be vbTextCompare or vbBinaryCompare, got {compare!r}")


def _need(function_name: str, index: int, value: object) -> None:
    if value is None:
        fail(function_name, f"argument {index} is NULL")


@function("Guid", "", group="Text", pure=False)
def guid() -> str:
    """A new random GUID in its usual string form."""
    return str(uuid.uuid4())


@function("InStr", "str, str, num?, enum?", group="Text", enums={3: _COMPARE})
def instr(check: str, match: str, start: int = 1, compare: str | None = None) -> int:
    if start < 1:
        fail("InStr", f"start must be 1 or more, got {start}")
    if start > len(check) + 1:
        return 0
    if _text_compare(compare, "InStr"):
        check, match = check.lower(), match.lower()
    return check.find(match, start - 1) + 1


@function("InStrRev", "str, str, num?, enum?", group="Text", enums={3: _COMPARE})
def instr_rev(check: str, match: str, start: int = -1, compare: str | None = None) -> int:
    if start == -1:
        start = len(check)
    elif start < 1:
        fail("InStrRev", f"start must be 1 or more, or -1 for the end, got {start}")
    elif start > len(check):
        return 0
    if _text_compare(compare, "InStrRev"):
        check, match = check.lower(), match.lower()
    return check.rfind(match, 0, start) + 1


@function("LCase", "str", group="Text")
def lcase(value: str) -> str:
    return value.lower()


@function("UCase", "str", group="Text")
def ucase(value: str) -> str:
    return value.upper()


@function("Left", "str, num", group="Text", nulls=True)
def left(string: str | None, num_chars: int) -> str:
    _need("Left", 2, num_chars)
    if string is None or num_chars == 0:
        return ""
    if num_chars < 0:
        return string
    return string[:num_chars]


@function("Right", "str, num", group="Text", nulls=True)
def right(string: str | None, num_chars: int) -> str:
    _need("Right", 2, num_chars)
    if string is None or num_chars == 0:
        return ""
    if num_chars < 0:
        return string
    return string[-num_chars:]


@function("Mid", "str, num, num?", group="Text", nulls=True)
def mid(string: str | None, start: int, num_chars: int | None = None) -> str:
    """Characters from ``start`` (1-based); past the end gives "" (see docs/expressions.md)."""
    _need("Mid", 2, start)
    if string is None:
        return ""
    if num_chars is None:
        num_chars = len(string)
    if num_chars == 0:
        return ""
    if num_chars < 0 or start <= 0:
        return string
    return string[start - 1 : start - 1 + num_chars]


@function("Len", "str", group="Text")
def length(value: str) -> int:
    return len(value)


@function("LTrim", "str", group="Text")
def ltrim(value: str) -> str:
    return value.lstrip()


@function("RTrim", "str", group="Text")
def rtrim(value: str) -> str:
    return value.rstrip()


@function("Trim", "str", group="Text")
def trim(value: str) -> str:
    return value.strip()


MAX_PAD = 1_000_000


def _pad_char(function_name: str, pad: str | None, length: int) -> str:
    if length > MAX_PAD:
        fail(function_name, f"length {length} is beyond the limit of {MAX_PAD:,} characters")
    if pad is None or len(pad) != 1:
        fail(function_name, "padCharacter must be exactly one character")
    return pad


@function("PadLeft", "str, num, str", group="Text", nulls=True)
def pad_left(string: str | None, length_: int, pad: str | None) -> str:
    _need("PadLeft", 2, length_)
    char = _pad_char("PadLeft", pad, length_)
    if string is None:
        return ""
    return string.rjust(length_, char)


@function("PadRight", "str, num, str", group="Text", nulls=True)
def pad_right(string: str | None, length_: int, pad: str | None) -> str:
    _need("PadRight", 2, length_)
    char = _pad_char("PadRight", pad, length_)
    if string is None:
        return ""
    return string.ljust(length_, char)


def _proper_word(word: str) -> str:
    if not word:
        return word
    letters = [c for c in word if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
        return word  # an all-caps word is taken for an acronym and kept (as .NET ToTitleCase does)
    return word[0].upper() + word[1:].lower()


@function("PCase", "str", group="Text")
def pcase(value: str) -> str:
    """First letter of each space-delimited word upper case, the rest lower; all-caps words are kept."""
    return " ".join(_proper_word(w) for w in value.split(" "))


_MONIKER = re.compile(r"\\([nrt\\])")
_MONIKERS = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}


def decode_monikers(text: str) -> str:
    """``\\n``, ``\\r``, ``\\t`` (and ``\\\\`` for one backslash) as Replace recognizes them."""
    if "\\" not in text:
        return text
    return _MONIKER.sub(lambda m: _MONIKERS[m.group(1)], text)


@function("Replace", "str, str, str", group="Text")
def replace(string: str, old: str, new: str) -> str:
    old = decode_monikers(old)
    if not old:
        return string
    return string.replace(old, decode_monikers(new))


@functools.lru_cache(maxsize=256)
def parse_replace_pattern(pattern: str) -> dict[str, str]:
    """``source:target,…`` → {source: target}; white space is ignored; raises on a malformed item."""
    table: dict[str, str] = {}
    compact = "".join(ch for ch in pattern if not ch.isspace())
    for item in compact.split(","):
        if not item:
            continue
        if ":" not in item:
            fail("ReplaceChars", f"pattern item {item!r} has no ':' (write source:target)")
        source, target = item.split(":", 1)
        if len(source) != 1:
            fail("ReplaceChars", f"pattern source {source!r} must be exactly one character")
        if ":" in target:
            fail("ReplaceChars", f"pattern target {target!r} cannot contain ':'")
        table[source] = target
    return table


@function("ReplaceChars", "str, str", group="Text")
def replace_chars(string: str, pattern: str) -> str:
    table = parse_replace_pattern(pattern)
    return "".join(table.get(ch, ch) for ch in string)


@function("Word", "str, num, str", group="Text", nulls=True)
def word(string: str | None, number: int, delimiters: str | None) -> str:
    """The ``number``-th word (1-based) between any of the delimiter characters; empty words are skipped."""
    _need("Word", 2, number)
    if string is None or number < 1:
        return ""
    if not delimiters:
        words = [string] if string else []
    else:
        words = [w for w in re.split("[" + re.escape(delimiters) + "]", string) if w]
    if number > len(words):
        return ""
    return words[number - 1]


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        fail("RegexReplace", f"invalid regular expression {pattern!r}: {exc}")


_DOTNET_GROUP = re.compile(r"\$(?:(\d+)|\{(\w+)\}|(\$))")


@function("RegexReplace", "str, str, str", group="Text", extension=True)
def regex_replace(string: str, pattern: str, replacement: str) -> str:
    """Replace every match of a regular expression; ``$1`` / ``${name}`` name groups in the replacement."""
    regex = _regex(pattern)

    def expand(match: re.Match[str]) -> str:
        def group(m: re.Match[str]) -> str:
            if m.group(3):
                return "$"
            key: int | str = int(m.group(1)) if m.group(1) else m.group(2)
            try:
                return match.group(key) or ""
            except IndexError:
                fail("RegexReplace", f"the pattern has no group {key}")

        return _DOTNET_GROUP.sub(group, replacement)

    return regex.sub(expand, string)
