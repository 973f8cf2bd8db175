"""Scoping filters: every operator, case rules, numbers, multi-values, absent attributes."""

from __future__ import annotations

import pytest

from reconciler.engine.sync.scoping import condition_holds, in_scope
from reconciler.playbook.model import Condition


def holds(op: str, value: object, attrs: dict[str, object], cs: bool = False) -> bool:
    return condition_holds(Condition("a", op, value, case_sensitive=cs), attrs)


@pytest.mark.parametrize(
    ("op", "value", "attr", "expected"),
    [
        ("EQUAL", "Active", "active", True),
        ("NOTEQUAL", "x", "y", True),
        ("LESSTHAN", "10", "9", True),  # numbers when both are integers
        ("LESSTHAN", "b", "a", True),
        ("LESSTHAN_OR_EQUAL", "9", "9", True),
        ("GREATERTHAN", "9", "10", True),
        ("GREATERTHAN_OR_EQUAL", "10", "10", True),
        ("STARTSWITH", "ad", "Ada", True),
        ("NOTSTARTSWITH", "ad", "Bob", True),
        ("ENDSWITH", "DA", "Ada", True),
        ("NOTENDSWITH", "da", "Bob", True),
        ("CONTAINS", "D", "Ada", True),
        ("NOTCONTAINS", "z", "Ada", True),
        ("ISIN", ["x", "ADA"], "ada", True),
        ("ISNOTIN", ["x", "y"], "ada", True),
        ("ISBITSET", "2", "514", True),
        ("ISNOTBITSET", "1", "514", True),
        ("ISNULL", None, None, True),
        ("ISNOTNULL", None, "x", True),
    ],
)
def test_operators(op: str, value: object, attr: object, expected: bool) -> None:
    attrs = {} if attr is None else {"a": attr}
    assert holds(op, value, attrs) is expected


def test_case_sensitive_conditions() -> None:
    assert holds("EQUAL", "Active", {"a": "active"}) is True
    assert holds("EQUAL", "Active", {"a": "active"}, cs=True) is False


def test_multivalued_holds_when_any_value_does() -> None:
    assert holds("EQUAL", "b", {"a": ["a", "b"]}) is True
    assert holds("EQUAL", "c", {"a": ["a", "b"]}) is False


def test_absent_attribute() -> None:
    assert holds("EQUAL", "x", {}) is False
    assert holds("NOTEQUAL", "x", {}) is True
    assert holds("ISNULL", None, {"a": ""}) is True


def test_or_of_and_groups_and_membership() -> None:
    scope = [[Condition("a", "EQUAL", "1"), Condition("b", "EQUAL", "2")], [Condition("c", "ISNOTNULL")]]
    assert in_scope(scope, {"a": "1", "b": "2"})
    assert not in_scope(scope, {"a": "1", "b": "3"})
    assert in_scope(scope, {"c": "x"})
    assert in_scope([], {})
    member = [[Condition("x", "ISMEMBEROF", "cn=vpn")]]
    assert in_scope(member, {}, lambda dn: dn == "cn=vpn")
    assert not in_scope(member, {}, lambda dn: False)
