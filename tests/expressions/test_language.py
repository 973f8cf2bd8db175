"""The language itself: syntax errors with columns, operators and their order, literals,
multi-valued semantics, laziness, NULL, attributes, parameters and the public API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from expr_helpers import FIXED_NOW, ev

from reconciler.errors import ExpressionEvalError, ExpressionSyntaxError
from reconciler.expressions import IGNORE_THIS_FLOW, Expression, compile_expression, to_json_value


def syntax_error(text: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(text)
    assert caught.value.expression == text
    return caught.value


# -- syntax errors ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("LCase([a]", 10, "LCase( at column 1 is not closed"),
        ('"abc', 1, "unterminated string"),
        ("[a] & & [b]", 7, "expected a value"),
        ("[a", 1, "unterminated attribute"),
        ("%Domain", 1, "unterminated parameter"),
        ("1.5 + 1", 2, "64-bit integers"),
        ("“quoted”", 1, "typographic quote"),
        ("[a] == 1", 5, "unknown operator '=='"),
        ('Left("a")', 1, "Left takes 2 arguments, got 1"),
        ('Trim("a", "b")', 1, "Trim takes 1 argument, got 2"),
        ('Mid("a")', 1, "Mid takes 2 to 3 arguments, got 1"),
        ("IIF(True, 1)", 1, "IIF takes 3 arguments, got 2"),
        ('Switch(True, "a", False)', 1, "pairs"),
        ("ImportedValue([proxyAddresses])", 15, "string literal"),
        ("UCase($item)", 7, "variable $item is not defined"),
        ('Where("x", [a], True)', 7, "must be a variable"),
        ('DateAdd("fortnight", 1, Now())', 9, "must be one of"),
        ("", 1, "empty"),
        ("[a] [b]", 5, "unexpected [b]"),
        ("(1 + 2", 7, "expected ')'"),
        ("1 + 2)", 6, "unexpected ')'"),
        ("x & 1", 1, "unknown name 'x'"),
        ("LCase", 1, "needs parentheses"),
        ('Left("a" 1)', 10, "expected ',' or ')'"),
        ("&HZZ", 1, "expected a value, found '&'"),
        ("12abc", 3, "after the number"),
        ("9223372036854775808", 1, "does not fit a 64-bit integer"),
        ("1 + &H8000000000000000", 5, "does not fit a 64-bit integer"),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, column: int, fragment: str) -> None:
    error = syntax_error(text)
    assert error.column == column, error.one_line()
    assert fragment in error.one_line()
    assert f"column {column}" in error.message


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("Lcas([a])", "LCase"),
        ("Trm([a])", "Trim"),
        ("DNComponnent([dn], 1)", "DNComponent"),
        ("IsPresnt([a])", "IsPresent"),
        ("StringFromGUUID([a])", "StringFromGuid"),
    ],
)
def test_unknown_function_suggests_the_closest(text: str, suggestion: str) -> None:
    assert f"did you mean {suggestion}?" in syntax_error(text).one_line()


def test_misspelled_constant_suggests() -> None:
    assert "did you mean True?" in syntax_error("IIF(Ture, 1, 2)").one_line()
    assert "did you mean IgnoreThisFlow?" in syntax_error("IgnoreThisFlo").one_line()


def test_function_names_are_case_insensitive() -> None:
    assert ev('lcase("A")') == ev('LCASE("A")') == ev('LCase("A")') == "a"
    assert ev('iif(true, "y", "n")') == "y"


# -- operators ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-2*3", 24),
        ("10-(2*3)", 4),
        ("1+2*3", 9),
        ("2*5+3", 13),
        ("7/2", 3),
        ("-7/2", -3),
        ("7/-2", -3),
        ("-(3)", -3),
        ("5 - -2", 7),
        ('"a" & 1 & True', "a1True"),
        ("1 < 2", True),
        ('"a" < "b"', True),
        ('"a" = "A"', False),
        ("1 <> 2", True),
        ("2 >= 2", True),
        ("2 <= 1", False),
        ("(1 = 1) && (2 = 2)", True),
        ("(1 = 2) || (2 = 2)", True),
        ("1 = 1 || False", True),
        ("&H10 + 1", 17),
        ("&hff", 255),
        ("&HFFFFFFFF", 4294967295),
        ("-9223372036854775807 - 1", -9223372036854775808),
    ],
)
def test_operators(text: str, expected: object) -> None:
    assert ev(text) == expected


def test_comparisons_after_logic_need_parentheses() -> None:
    with pytest.raises(ExpressionEvalError) as caught:
        ev('[a] = "x" && [b] = "y"', {"a": "x", "b": "y"})
    assert "left to right" in caught.value.message
    assert ev('([a] = "x") && ([b] = "y")', {"a": "x", "b": "y"}) is True


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('"a" + "b"', "concatenate strings with &"),
        ('1 = "1"', "cannot compare number with string"),
        ("1 / 0", "division by zero"),
        ("&H7FFFFFFFFFFFFFFF + 1", "overflows a 64-bit integer"),
        ("9223372036854775807 * 2", "overflows"),
        ('"a" && True', "needs boolean operands"),
        ('[b] & "x"', "cannot concatenate a binary value"),
        ('PadLeft("x", 10000000000, "0")', "beyond the limit"),
        ('PadRight("x", 3, "00")', "exactly one character"),
        ('InStr("abc", "b", 0)', "start must be 1 or more"),
        ('Split("a,b", ",", 0)', "limit must be 1 or more"),
        ('DateAdd("yyyy", 100000, Now())', "outside the years"),
        ("DateFromNum(&H7FFFFFFFFFFFFFFF)", "outside the dates"),  # AD's "never"
        ('Item(Split("a,b", ","), 3)', "index 3 is out of bounds"),
    ],
)
def test_operator_errors(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionEvalError) as caught:
        ev(text, {"b": b"\x00"})
    assert fragment in caught.value.message


def test_null_in_operators() -> None:
    assert ev('[missing] & "x"') == "x"
    assert ev("[missing] & [alsoMissing]") is None
    assert ev("[missing] + 1") is None
    assert ev("[missing] < 1") is None
    assert ev("[missing] = NULL") is True
    assert ev('[missing] = "a"') is False
    assert ev('[missing] <> "a"') is True
    assert ev("IIF([missing] > 1, 1, 2)") == 2


def test_short_circuit_logic() -> None:
    assert ev('False && Error("never")') is False
    assert ev('True || Error("never")') is True


# -- literals -------------------------------------------------------------------------
def test_string_literals() -> None:
    assert ev('"say ""hi"""') == 'say "hi"'
    assert ev('"C:\\temp\\"') == "C:\\temp\\"  # backslashes are ordinary characters
    assert ev('"a\\nb"') == "a\\nb"
    assert ev("CRLF") == "\r\n"
    assert ev("NULL") is None
    assert ev("Nothing") is None
    assert ev("true") is True and ev("FALSE") is False
    assert ev("IgnoreThisFlow") is IGNORE_THIS_FLOW


# -- multi-valued -----------------------------------------------------------------------
def test_multi_valued_operands_pair_up() -> None:
    attrs = {"a": ["x", "y"], "b": ["1", "2"], "c": ["only"]}
    assert ev("[a] & [b]", attrs) == ["x1", "y2"]
    assert ev('[a] & "!"', attrs) == ["x!", "y!"]
    assert ev('"<" & [a]', attrs) == ["<x", "<y"]
    with pytest.raises(ExpressionEvalError, match="2 and 1 values"):
        ev("[a] & [c]", attrs)


def test_null_results_drop_values() -> None:
    attrs = {"p": ["SIP:a", "smtp:b", "SMTP:c"]}
    assert ev('IIF(Left([p], 4) = "SIP:", NULL, UCase([p]))', attrs) == ["SMTP:B", "SMTP:C"]
    assert ev('IIF(Left([p], 4) = "SIP:", NULL, [p])', {"p": ["SIP:a"]}) is None


def test_mv_parameters_take_the_whole_attribute() -> None:
    attrs = {"p": ["a", "b", "c"]}
    assert ev("Count([p])", attrs) == 3
    assert ev("Count(Trim([p]))", attrs) == 3
    assert ev('Join(UCase([p]), "+")', attrs) == "A+B+C"
    assert ev("IsPresent([p])", attrs) is True


def test_single_value_list_stays_multi_valued() -> None:
    assert ev("UCase([p])", {"p": ["a"]}) == ["A"]
    assert ev("UCase([p])", {"p": ("a", "b")}) == ["A", "B"]


def test_iif_and_switch_evaluate_only_the_chosen_branch() -> None:
    assert ev('IIF(True, "a", Error("no"))') == "a"
    assert ev('IIF(False, Error("no"), "b")') == "b"
    assert ev('Switch(True, "a", 1/0 = 1, Error("no"))') == "a"
    assert ev('Switch(False, Error("no"), True, "b")') == "b"
    assert ev('Switch(False, "a")') is None
    assert ev('Switch([x] = 1, "one", [x] = 2, NULL, True, "other")', {"x": 2}) is None
    with pytest.raises(ExpressionEvalError, match="Switch: the condition must be a boolean"):
        ev('Switch("yes", 1)')


def test_iif_with_mv_condition_evaluates_only_needed_branches() -> None:
    assert ev('IIF([a] = "x", "yes", Error("no"))', {"a": ["x", "x"]}) == ["yes", "yes"]


def test_variables_nest_and_shadow() -> None:
    attrs = {"a": ["x", "yy"], "b": ["1", "22", "333"]}
    assert ev("Select($i, [a], Count(Where($j, [b], Len($j) = Len($i))))", attrs) == [1, 1]
    assert ev('With($v, "out", Select($v, [a], $v & "!") & "")', attrs) == ["x!", "yy!"]
    assert ev('With($v, "out", Join(Select($v, [a], $v), ",") & $v)', attrs) == "x,yyout"
    assert ev("With($Item, 1, $item + 1)") == 2


# -- attributes, parameters, imported values, dates ---------------------------------------
def test_attribute_lookup_exact_first_then_case_insensitive() -> None:
    assert ev("[givenName]", {"GivenName": "Ada"}) == "Ada"
    assert ev("[givenName]", {"GIVENNAME": "upper", "givenName": "exact"}) == "exact"
    assert ev("[ givenName ]", {"givenName": "Ada"}) == "Ada"


def test_parameters() -> None:
    assert ev("%Domain.Netbios%", params={"domain.netbios": "CONTOSO"}) == "CONTOSO"
    with pytest.raises(ExpressionEvalError, match=r"parameter %Forest.LDAP% is not defined"):
        ev("%Forest.LDAP%")


def test_imported_value_reads_the_imported_values() -> None:
    text = 'ImportedValue("proxyAddresses")'
    attrs = {"proxyAddresses": ["smtp:new@x", "smtp:old@x"]}
    assert ev(text, attrs, imported={"proxyAddresses": ["smtp:old@x"]}) == ["smtp:old@x"]
    assert ev(text, attrs, imported={}) is None
    assert ev(text, attrs) == attrs["proxyAddresses"]  # no imported values given: the attributes


def test_dates_without_a_zone_are_utc() -> None:
    assert ev('CDate("2020-03-04 05:06")') == datetime(2020, 3, 4, 5, 6, tzinfo=UTC)
    assert ev('CDate("2020-03-04T05:06:07+02:00")') == datetime(2020, 3, 4, 3, 6, 7, tzinfo=UTC)
    assert ev('CDate("20140905081453.0Z")') == datetime(2014, 9, 5, 8, 14, 53, tzinfo=UTC)
    assert ev("[d]", {"d": datetime(2020, 1, 1, 12)}) == datetime(2020, 1, 1, 12, tzinfo=UTC)
    eastern = timezone(timedelta(hours=-5))
    assert ev("[d]", {"d": datetime(2020, 1, 1, 7, tzinfo=eastern)}) == datetime(2020, 1, 1, 12, tzinfo=UTC)
    assert ev("Now()") == FIXED_NOW
    assert ev("Now()", now=datetime(2020, 1, 1)) == datetime(2020, 1, 1, tzinfo=UTC)
    assert ev("[d] < Now()", {"d": datetime(2020, 1, 1)}) is True


def test_sentinels_are_not_arguments() -> None:
    with pytest.raises(ExpressionEvalError, match="got IgnoreThisFlow"):
        ev("LCase(IgnoreThisFlow)")


# -- public API ---------------------------------------------------------------------------
def test_expression_object() -> None:
    expr = compile_expression('IIF(IsPresent([mail]), [mail], %Default% & ImportedValue("upn"))')
    assert isinstance(expr, Expression)
    assert expr.attributes == frozenset({"mail"})
    assert expr.parameters == frozenset({"Default"})
    assert expr.imported_attributes == frozenset({"upn"})
    assert expr.text.startswith("IIF")
    assert compile_expression(expr.text) is expr  # cached by text


def test_to_json_value() -> None:
    value = [datetime(2020, 1, 2, 3, 4, 5, 600000, tzinfo=UTC), b"\x00\x01", IGNORE_THIS_FLOW, None, 1, "s"]
    assert to_json_value(value) == ["2020-01-02T03:04:05.6Z", "AAE=", "IgnoreThisFlow", None, 1, "s"]
