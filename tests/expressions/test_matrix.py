"""Every function against NULL, a missing attribute, an empty string, a multi-valued
attribute and a wrong type, with the value under test always passed as ``[x]``.

``ERR`` marks an ``ExpressionEvalError``. A missing attribute must behave like
NULL. Multi-valued values reach single-value parameters one by one (NULL
results dropped); *mv*/*var* parameters take the whole attribute.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from expr_helpers import ev

from reconciler.errors import ExpressionEvalError
from reconciler.expressions import Reference
from reconciler.expressions.functions import all_functions

ERR = object()
G1 = "00001111-aaaa-2222-bbbb-3333cccc4444"
G2 = "{55556666-dddd-7777-eeee-8888ffff9999}"
B1 = uuid.UUID(G1).bytes_le
B2 = uuid.UUID(G2).bytes_le
SID = bytes([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0])  # S-1-5-32-544
D1 = datetime(2020, 1, 1, tzinfo=UTC)
D2 = datetime(2021, 6, 15, 8, 30, tzinfo=UTC)
MV = ["ab", "cd"]


@dataclass
class Case:
    template: str
    null: Any
    empty: Any
    mv: tuple[Any, Any]
    wrong: tuple[Any, Any]


CASES: list[Case] = [
    # Text
    Case('InStr([x], "b")', None, 0, (MV, [2, 0]), (5, ERR)),
    Case('InStrRev([x], "b")', None, 0, (MV, [2, 0]), (5, ERR)),
    Case("LCase([x])", None, "", (["AB", "Cd"], ["ab", "cd"]), (5, ERR)),
    Case("UCase([x])", None, "", (MV, ["AB", "CD"]), (True, ERR)),
    Case("Left([x], 1)", "", "", (MV, ["a", "c"]), (5, ERR)),
    Case("Right([x], 1)", "", "", (MV, ["b", "d"]), (5, ERR)),
    Case("Mid([x], 2, 1)", "", "", (MV, ["b", "d"]), (5, ERR)),
    Case("Len([x])", None, 0, (["ab", "cde"], [2, 3]), (5, ERR)),
    Case("LTrim([x])", None, "", ([" ab ", " cd"], ["ab ", "cd"]), (5, ERR)),
    Case("RTrim([x])", None, "", ([" ab ", "cd "], [" ab", "cd"]), (5, ERR)),
    Case("Trim([x])", None, "", ([" ab ", "cd "], ["ab", "cd"]), (5, ERR)),
    Case('PadLeft([x], 3, "0")', "", "000", (MV, ["0ab", "0cd"]), (5, ERR)),
    Case('PadRight([x], 3, "0")', "", "000", (MV, ["ab0", "cd0"]), (5, ERR)),
    Case("PCase([x])", None, "", (["aB", "cD eF"], ["Ab", "Cd Ef"]), (5, ERR)),
    Case('Replace([x], "b", "x")', None, "", (MV, ["ax", "cd"]), (5, ERR)),
    Case('ReplaceChars([x], "a:z")', None, "", (MV, ["zb", "cd"]), (5, ERR)),
    Case('Word([x], 1, " ")', "", "", (["ab cd", "ef"], ["ab", "ef"]), (5, ERR)),
    Case('RegexReplace([x], "[ac]", "-")', None, "", (MV, ["-b", "-d"]), (5, ERR)),
    # Conversion
    Case("CBool([x])", None, ERR, ([1, 0], [True, False]), (b"\x01", ERR)),
    Case("CDate([x])", None, ERR, (["2020-01-01", "2021-06-15 08:30"], [D1, D2]), (5, ERR)),
    Case("CGuid([x])", None, ERR, ([G1, G2], [B1, B2]), (5, ERR)),
    Case("ConvertFromBase64([x])", None, "", (["SABpAA==", "aABpAA=="], ["Hi", "hi"]), (5, ERR)),
    Case("ConvertToBase64([x])", None, "", (["Hi", "hi"], ["SABpAA==", "aABpAA=="]), (5, ERR)),
    Case("ConvertFromUTF8Hex([x])", None, "", (["4869", "6869"], ["Hi", "hi"]), (5, ERR)),
    Case("ConvertToUTF8Hex([x])", None, "", (["Hi", "hi"], ["4869", "6869"]), (5, ERR)),
    Case("CNum([x])", None, ERR, (["1", " -2 "], [1, -2]), (True, ERR)),
    Case("CRef([x])", None, "", (["cn=a", "cn=b"], ["cn=a", "cn=b"]), (5, ERR)),
    Case("CStr([x])", None, "", ([1, True], ["1", "True"]), (b"\x01", ERR)),
    Case("StringFromGuid([x])", None, ERR, ([B1, B2], [G1, G2.strip("{}")]), ("abc", ERR)),
    Case("StringFromSid([x])", None, ERR, ([SID, SID], ["S-1-5-32-544"] * 2), ("S-1-5", ERR)),
    # Date / Time
    Case(
        'DateAdd("d", 1, [x])', None, ERR, ([D1, D2], [D1 + timedelta(1), D2 + timedelta(1)]), ("2020", ERR)
    ),
    Case(
        "DateFromNum([x])",
        None,
        ERR,
        ([0, 864000000000], [datetime(1601, 1, 1, tzinfo=UTC), datetime(1601, 1, 2, tzinfo=UTC)]),
        ("5", ERR),
    ),
    Case('FormatDateTime([x], "yyyy")', None, ERR, ([D1, D2], ["2020", "2021"]), ("2020", ERR)),
    Case(
        "NumFromDate([x])", None, ERR, ([datetime(1601, 1, 2, tzinfo=UTC)] * 2, [864000000000] * 2), (5, ERR)
    ),
    # Directory
    Case("DNComponent([x], 1)", None, None, (["cn=a,dc=x", "cn=b,dc=y"], ["a", "b"]), (5, ERR)),
    Case("DNComponentRev([x], 1)", None, None, (["cn=a,dc=x", "cn=b,dc=y"], ["x", "y"]), (5, ERR)),
    Case("EscapeDNComponent([x])", None, "", (["cn=a,b", "cn=c"], ["cn=a\\,b", "cn=c"]), (5, ERR)),
    Case("EscapeDN([x])", None, "", (["cn=a+b", "c"], ["cn=a\\+b", "c"]), (5, ERR)),
    # Evaluation (var: the whole attribute)
    Case("IsBitSet([x], 2)", None, ERR, ([2, 5], [True, False]), ("2", ERR)),
    Case("IsDate([x])", False, False, (["2020-01-01", "12/25/2007"], True), (5, False)),
    Case("IsEmpty([x])", False, True, (MV, False), (5, False)),
    Case("IsGuid([x])", False, False, ([G1, G2], True), (5, False)),
    Case("IsNull([x])", True, False, (MV, False), (5, False)),
    Case("IsNullOrEmpty([x])", True, True, (MV, False), (5, False)),
    Case("IsNumeric([x])", False, False, (["1", "-2"], True), (b"\x01", False)),
    Case("IsPresent([x])", False, False, (MV, True), (5, True)),
    Case("IsString([x])", False, True, (MV, True), (b"\x01", False)),
    # Math
    Case("BitAnd([x], 3)", None, ERR, ([1, 6], [1, 2]), ("1", ERR)),
    Case("BitOr([x], 1)", None, ERR, ([1, 2], [1, 3]), ("1", ERR)),
    Case("RandomNum([x], [x])", None, ERR, ([5, 6], [5, 6]), ("1", ERR)),
    # Multi-valued (mv: the whole attribute)
    Case('Contains([x], "d")', 0, 0, (MV, 2), ([5], ERR)),
    Case("Count([x])", 0, 1, (MV, 2), (5, 1)),
    Case("Item([x], 1)", ERR, "", (MV, "ab"), (5, 5)),
    Case("ItemOrNull([x], 2)", None, None, (MV, "cd"), (5, None)),
    Case('Join([x], ",")', None, "", (MV, "ab,cd"), (b"\x01", ERR)),
    Case("RemoveDuplicates([x])", None, [""], (["ab", "cd", "ab"], MV), ([5, 5], [5])),
    Case('Split([x], ",")', None, [""], (["a,b", "c"], ["a", "b", "c"]), (5, ERR)),
    # Program flow
    Case("Error([x])", ERR, ERR, (MV, ERR), (5, ERR)),
    Case('IIF([x], "y", "n")', "n", ERR, ([True, False], ["y", "n"]), ("abc", ERR)),
    Case('Switch([x], "y", True, "n")', "n", ERR, ([True], ERR), ("abc", ERR)),
    Case("Select($i, [x], UCase($i))", None, [""], (MV, ["AB", "CD"]), ([5], ERR)),
    Case('Where($i, [x], $i <> "ab")', None, [""], (MV, ["cd"]), ([5], ERR)),
    Case('With($v, [x], $v & "!")', "!", "!", (MV, ["ab!", "cd!"]), (b"\x01", ERR)),
    Case('ImportedValue("x")', None, "", (MV, MV), (5, 5)),
    Case('Coalesce([x], "d")', "d", "d", (MV, MV), (5, 5)),
]

# functions whose value under test cannot come from an attribute: no arguments, or tested in
# test_certificate.py (they need the openssl-made certificate)
NOT_IN_MATRIX = {"Guid", "Now"}


def _expect(expected: Any, attrs: dict[str, Any], template: str) -> None:
    if expected is ERR:
        with pytest.raises(ExpressionEvalError):
            ev(template, attrs)
    else:
        result = ev(template, attrs)
        assert result == expected, f"{template} with {attrs}: {result!r} != {expected!r}"
        if isinstance(expected, bool) or expected is None:
            assert result is expected


@pytest.mark.parametrize("case", CASES, ids=[c.template for c in CASES])
def test_null_and_missing(case: Case) -> None:
    _expect(case.null, {"x": None}, case.template)
    _expect(case.null, {}, case.template)
    _expect(case.null, {"x": []}, case.template)  # an empty multi-valued attribute has no value


@pytest.mark.parametrize("case", CASES, ids=[c.template for c in CASES])
def test_empty_string(case: Case) -> None:
    _expect(case.empty, {"x": ""}, case.template)


@pytest.mark.parametrize("case", CASES, ids=[c.template for c in CASES])
def test_multi_valued(case: Case) -> None:
    value, expected = case.mv
    _expect(expected, {"x": value}, case.template)


@pytest.mark.parametrize("case", CASES, ids=[c.template for c in CASES])
def test_wrong_type(case: Case) -> None:
    value, expected = case.wrong
    _expect(expected, {"x": value}, case.template)


def test_matrix_covers_every_non_certificate_function() -> None:
    covered = {c.template.split("(")[0].lower() for c in CASES}
    names = {s.name.lower() for s in all_functions() if s.group != "Certificate"}
    missing = names - covered - {n.lower() for n in NOT_IN_MATRIX}
    assert not missing, f"functions without matrix cases: {sorted(missing)}"


def test_cref_returns_a_reference() -> None:
    assert isinstance(ev('CRef("cn=a")'), Reference)
