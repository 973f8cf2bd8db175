"""Scoping filters: an OR of AND-groups of conditions, with Entra Connect's operators.

Strings compare case-insensitively unless the condition says ``case_sensitive``;
ordering operators compare numbers when both sides are integers, strings
otherwise; a condition on a multi-valued attribute holds when any value
satisfies it. ISMEMBEROF asks a callback whether the object is a member of the
group with the given DN (the engine answers from the connector space or the
metaverse).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.playbook.model import Condition

MemberOf = Callable[[str], bool]
# absent attribute: these hold, every other operator fails
_HOLDS_WHEN_ABSENT = frozenset(
    {"NOTEQUAL", "ISNULL", "NOTSTARTSWITH", "NOTENDSWITH", "NOTCONTAINS", "ISNOTIN", "ISNOTBITSET"}
)
_NEGATED = {
    "NOTEQUAL": "EQUAL", "NOTSTARTSWITH": "STARTSWITH", "NOTENDSWITH": "ENDSWITH",
    "NOTCONTAINS": "CONTAINS", "ISNOTIN": "ISIN", "ISNOTBITSET": "ISBITSET",
}  # fmt: skip


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        s = v.strip()
        if s[:1] in "+-":
            return int(s) if s[1:].isdigit() else None
        return int(s) if s.isdigit() else None
    return None


def _text(v: Any, cs: bool) -> str:
    if isinstance(v, bool):
        s = "true" if v else "false"
    else:
        s = str(v)
    return s if cs else s.casefold()


def _test_one(op: str, value: Any, cond: Condition) -> bool:
    """A positive operator against one attribute value."""
    cs = cond.case_sensitive
    target = cond.value
    if op == "EQUAL":
        a, b = _as_int(value), _as_int(target)
        if a is not None and b is not None:
            return a == b
        return _text(value, cs) == _text(target, cs)
    if op in ("LESSTHAN", "LESSTHAN_OR_EQUAL", "GREATERTHAN", "GREATERTHAN_OR_EQUAL"):
        a, b = _as_int(value), _as_int(target)
        left: Any
        right: Any
        if a is not None and b is not None:
            left, right = a, b
        else:
            left, right = _text(value, cs), _text(target, cs)
        if op == "LESSTHAN":
            return bool(left < right)
        if op == "LESSTHAN_OR_EQUAL":
            return bool(left <= right)
        if op == "GREATERTHAN":
            return bool(left > right)
        return bool(left >= right)
    if op == "STARTSWITH":
        return _text(value, cs).startswith(_text(target, cs))
    if op == "ENDSWITH":
        return _text(value, cs).endswith(_text(target, cs))
    if op == "CONTAINS":
        return _text(target, cs) in _text(value, cs)
    if op == "ISIN":
        options = target if isinstance(target, list) else [target]
        return any(_test_one("EQUAL", value, _with_value(cond, o)) for o in options)
    if op == "ISBITSET":
        a, b = _as_int(value), _as_int(target)
        return a is not None and b is not None and (a & b) == b
    return False


def _with_value(cond: Condition, value: Any) -> Condition:
    return Condition(cond.attribute, cond.op, value, cond.case_sensitive, cond.mark)


def condition_holds(cond: Condition, attrs: Mapping[str, Any], member_of: MemberOf | None = None) -> bool:
    op = cond.op.upper()
    if op in ("ISMEMBEROF", "NOTISMEMBEROF"):
        is_member = bool(member_of and member_of(str(cond.value)))
        return is_member if op == "ISMEMBEROF" else not is_member
    value = attrs.get(cond.attribute)
    absent = value is None or value == "" or value == []
    if op == "ISNULL":
        return absent
    if op == "ISNOTNULL":
        return not absent
    if absent:
        return op in _HOLDS_WHEN_ABSENT
    values = value if isinstance(value, list) else [value]
    positive = _NEGATED.get(op)
    if positive is not None:
        # "any value satisfies" the negated condition: some value does not match
        return any(not _test_one(positive, v, cond) for v in values)
    return any(_test_one(op, v, cond) for v in values)


def in_scope(scope: list[list[Condition]], attrs: Mapping[str, Any], member_of: MemberOf | None = None) -> bool:
    """An empty scope holds everything; otherwise any AND-group whose conditions all hold."""
    if not scope:
        return True
    return any(all(condition_holds(c, attrs, member_of) for c in group) for group in scope)


def needs_membership(scope: list[list[Condition]]) -> bool:
    return any(c.op.upper() in ("ISMEMBEROF", "NOTISMEMBEROF") for g in scope for c in g)


ScopeTest = Callable[[Mapping[str, Any], "MemberOf | None"], bool]


def _compile_condition(cond: Condition) -> ScopeTest:
    """One condition as a closure; EQUAL/NOTEQUAL against a text constant (the usual filter) take a
    short path with the same meaning as ``condition_holds``."""
    op = cond.op.upper()
    attr = cond.attribute
    if op in ("EQUAL", "NOTEQUAL") and not isinstance(cond.value, list) and _as_int(cond.value) is None:
        want = _text(cond.value, cond.case_sensitive)
        fold = not cond.case_sensitive
        equal = op == "EQUAL"

        def text_test(attrs: Mapping[str, Any], member_of: MemberOf | None) -> bool:
            value = attrs.get(attr)
            if type(value) is str and value:
                return ((value.casefold() if fold else value) == want) is equal
            return condition_holds(cond, attrs, member_of)

        return text_test

    def test(attrs: Mapping[str, Any], member_of: MemberOf | None) -> bool:
        return condition_holds(cond, attrs, member_of)

    return test


def compile_scope(scope: list[list[Condition]]) -> ScopeTest | None:
    """The scope as one test (None: everything is in scope), built once per run."""
    if not scope:
        return None
    groups = [[_compile_condition(c) for c in group] for group in scope]
    if len(groups) == 1 and len(groups[0]) == 1:
        return groups[0][0]

    def test(attrs: Mapping[str, Any], member_of: MemberOf | None) -> bool:
        return any(all(t(attrs, member_of) for t in group) for group in groups)

    return test
