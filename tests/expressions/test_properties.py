"""Property tests: round trips, literal quoting, left-to-right order, and a parser that never crashes."""

from __future__ import annotations

import operator
import uuid
from datetime import UTC, datetime

from expr_helpers import ev
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import ExpressionEvalError, ExpressionSyntaxError
from reconciler.expressions import compile_expression
from reconciler.expressions.functions.directory import _escape_each, escape_dn_value

NO_DB = settings(database=None)  # leave no .hypothesis folder behind
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@NO_DB
@given(text)
def test_string_literal_round_trip(s: str) -> None:
    assert ev('"' + s.replace('"', '""') + '"') == s


@NO_DB
@given(text)
def test_base64_and_utf8_hex_round_trip(s: str) -> None:
    assert ev("ConvertFromBase64(ConvertToBase64([s]))", {"s": s}) == s
    assert ev("ConvertFromBase64(ConvertToBase64([s], UTF8), UTF8)", {"s": s}) == s
    assert ev("ConvertFromUTF8Hex(ConvertToUTF8Hex([s]))", {"s": s}) == s


@NO_DB
@given(st.uuids())
def test_guid_round_trip(u: uuid.UUID) -> None:
    assert ev("StringFromGuid(CGuid([g]))", {"g": str(u)}) == str(u)
    assert ev("CGuid([g])", {"g": "{" + str(u).upper() + "}"}) == u.bytes_le


@NO_DB
@given(st.datetimes(min_value=datetime(1601, 1, 2), max_value=datetime(9999, 1, 1)))
def test_ad_date_round_trip(d: datetime) -> None:
    d = d.replace(tzinfo=UTC)
    assert ev("DateFromNum(NumFromDate([d]))", {"d": d}) == d


@NO_DB
@given(text, st.integers(min_value=0, max_value=50))
def test_left_and_mid_split_a_string(s: str, n: int) -> None:
    assert ev("Left([s], [n]) & Mid([s], [n] + 1, Len([s]))", {"s": s, "n": n}) == s


OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul}


@NO_DB
@given(
    st.integers(-1000, 1000),
    st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(-1000, 1000)), min_size=1, max_size=5),
)
def test_operators_are_left_to_right_with_equal_priority(first: int, rest: list[tuple[str, int]]) -> None:
    expected = first
    expression = str(first)
    for op, value in rest:
        expected = OPS[op](expected, value)
        expression += f" {op} ({value})"
    assert ev(expression) == expected


@settings(max_examples=300, database=None)
@given(st.text(alphabet='[]()%$",&+-*/=<>|!HTFLUeftrim0123456789 aA', max_size=30))
def test_parser_raises_only_syntax_errors(source: str) -> None:
    try:
        compile_expression(source)
    except ExpressionSyntaxError as exc:
        assert 1 <= exc.column <= len(source) + 1


@NO_DB
@given(st.text(alphabet=st.sampled_from(list('ab #,+"\\<>;=\x00\r\n é')), max_size=12) | text)
def test_escaping_a_dn_value_skips_only_values_with_nothing_to_escape(s: str) -> None:
    # the quick check returns a value as is; the character loop must agree for every value
    assert escape_dn_value(s) == _escape_each(s)


_word = st.text(alphabet=st.sampled_from(list("ab c'.")), max_size=6)


@NO_DB
@given(st.none() | _word | st.lists(_word, max_size=3), st.integers(-2, 8), st.integers(-2, 8), _word, _word)
def test_literal_arguments_checked_once_give_what_computed_ones_give(
    x: object, n: int, m: int, old: str, new: str
) -> None:
    # Left([x], 3) binds its checked 3 when compiled; Left([x], [n]) computes it per value: same outcome
    def outcome(text: str, attrs: dict[str, object]) -> object:
        try:
            return ev(text, attrs)
        except ExpressionEvalError as exc:
            return ("error", str(exc))

    lit_old, lit_new = '"' + old.replace('"', '""') + '"', '"' + new.replace('"', '""') + '"'
    pairs = [
        (f"Left([x], {n})", "Left([x], [n])"),
        (f"Mid([x], {n}, {m})", "Mid([x], [n], [m])"),
        (f"Replace([x], {lit_old}, {lit_new})", "Replace([x], [o], [w])"),
        (f'Left([x], "{n}")', 'Left([x], [t])'),
        ('Left([x], "many")', 'Left([x], [bad])'),
        ("Replace([x], 1, 2)", "Replace([x], [one], [two])"),  # numbers checked into text
    ]
    attrs = {"x": x, "n": n, "m": m, "o": old, "w": new, "t": str(n), "bad": "many", "one": 1, "two": 2}
    compile_expression('Left([x], "many")')  # a literal that fails its check fails when evaluated, not here
    for literal, computed in pairs:
        assert outcome(literal, attrs) == outcome(computed, attrs), literal
