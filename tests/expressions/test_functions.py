"""Function details beyond the documented examples: edge cases and the choices docs/expressions.md records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from expr_helpers import ev

from reconciler.errors import ExpressionEvalError
from reconciler.expressions import Reference

D = datetime(2024, 3, 9, 14, 5, 7, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Mid / Left / Right edges (docs/expressions.md, point 3)
        ('Mid("John Doe", 9, 2)', ""),
        ('Mid("John Doe", 0, 2)', "John Doe"),
        ('Mid("John Doe", 2, -1)', "John Doe"),
        ('Mid("John Doe", 2, 0)', ""),
        ('Mid("John Doe", 6)', "Doe"),
        ('Left("John", -1)', "John"),
        ('Left("John", 0)', ""),
        ('Left("Jo", 5)', "Jo"),
        ('Right("John", -2)', "John"),
        ('Right("Jo", 5)', "Jo"),
        # PCase (point 4)
        ('PCase("the NASA program")', "The NASA Program"),
        ('PCase("jEAN-luc o\'neil")', "Jean-luc O'neil"),
        ('PCase("A b")', "A B"),
        # InStr / InStrRev
        ('InStr("abcabc", "c", 4)', 6),
        ('InStr("abc", "x")', 0),
        ('InStr("abc", "")', 1),
        ('InStr("abc", "a", 5)', 0),
        ('InStrRev("abcabc", "c", 5)', 3),
        ('InStrRev("abcABC", "c", -1, vbTextCompare)', 6),
        ('InStrRev("abc", "c", 9)', 0),
        # Replace monikers and ReplaceChars
        ('Replace("a\tb", "\\t", "\\\\")', "a\\b"),
        ('Replace("abc", "", "x")', "abc"),
        ('Replace("a.b.c", ".", "")', "abc"),
        ('ReplaceChars("a b", " a : x , b : \'")', "x '"),
        # Word
        ('Word("a  b", 2, " ")', "b"),
        ('Word("a b", 3, " ")', ""),
        ('Word("a b", 0, " ")', ""),
        ('Word("abc", 1, "")', "abc"),
        # Pad
        ('PadLeft("User", 2, "0")', "User"),
        ('PadRight("", 2, " ")', "  "),
        # Conversion
        ('ConvertFromBase64("SGk=", ASCII)', "Hi"),
        ('ConvertToBase64("Hi", "UTF8")', "SGk="),
        ('CNum("  42 ")', 42),
        ('CNum("-9223372036854775808")', -9223372036854775808),
        ('CBool("false")', False),
        ("CBool(0)", False),
        ('CStr(CDate("2024-01-31 08:00"))', "2024-01-31T08:00:00Z"),
        ('CStr(CRef("cn=a"))', "cn=a"),
        # Date / Time
        ('DateAdd("yyyy", 1, CDate("2024-02-29"))', datetime(2025, 2, 28, tzinfo=UTC)),
        ('DateAdd("q", 1, CDate("2024-01-31"))', datetime(2024, 4, 30, tzinfo=UTC)),
        ('DateAdd("m", -1, CDate("2024-03-31"))', datetime(2024, 2, 29, tzinfo=UTC)),
        ('DateAdd("y", 1, CDate("2024-12-31"))', datetime(2025, 1, 1, tzinfo=UTC)),
        ('DateAdd("w", 2, CDate("2024-01-01"))', datetime(2024, 1, 3, tzinfo=UTC)),
        ('DateAdd("ww", 1, CDate("2024-01-01"))', datetime(2024, 1, 8, tzinfo=UTC)),
        ('DateAdd("h", -1, CDate("2024-01-01"))', datetime(2023, 12, 31, 23, tzinfo=UTC)),
        ('DateAdd("n", 90, CDate("2024-01-01"))', datetime(2024, 1, 1, 1, 30, tzinfo=UTC)),
        ('DateAdd("s", 61, CDate("2024-01-01"))', datetime(2024, 1, 1, 0, 1, 1, tzinfo=UTC)),
        ('DateAdd("D", 1, CDate("2024-01-01"))', datetime(2024, 1, 2, tzinfo=UTC)),
        ('CDate("January 10, 2013")', datetime(2013, 1, 10, tzinfo=UTC)),
        ('CDate("Thu, 10 Jan 2013 16:00:00 +0100")', datetime(2013, 1, 10, 15, tzinfo=UTC)),
        ('CDate("2013-01-10 12:30 AM")', datetime(2013, 1, 10, 0, 30, tzinfo=UTC)),
        ('CDate("2013-01-10T23:59:59.999Z")', datetime(2013, 1, 10, 23, 59, 59, 999000, tzinfo=UTC)),
        ('CDate("2013-01-10 10:00 +05:30")', datetime(2013, 1, 10, 4, 30, tzinfo=UTC)),
        ('IsDate("2013-02-30")', False),
        ('IsDate("13/01/2013")', False),
        ('IsDate("2013-01-10 13:00 PM")', False),
        # Directory
        ('DNComponent("cn=Doe\\, John,ou=People,dc=x", 1)', "Doe, John"),
        ('DNComponent("cn=Doe\\2C John,ou=People", 1)', "Doe, John"),
        ('DNComponent("cn=""Doe, John"",ou=People", 2)', "People"),
        ('DNComponent("cn=""Doe, John"",ou=People", 1)', "Doe, John"),
        ('DNComponent("cn=a,ou=b", 3)', None),
        ('DNComponentRev("cn=a,ou=b,dc=x,dc=y", 1, "dc")', "b"),
        ('DNComponentRev("cn=a,ou=b", 0)', None),
        ('EscapeDNComponent("#1 ")', "\\#1\\ "),
        ('EscapeDNComponent("cn= lead")', "cn=\\ lead"),
        ('EscapeDNComponent("CN=a=b;c\\d")', "CN=a\\=b\\;c\\\\d"),
        ('EscapeDNComponent("no type, here")', "no type\\, here"),
        # Evaluation
        ("IsBitSet(514, 2)", True),
        ("IsBitSet(512, 2)", False),
        ("IsBitSet(7, 6)", True),
        ("IsBitSet(5, 6)", False),
        ('IsGuid("{00001111-aaaa-2222-bbbb-3333cccc4444")', False),
        ('IsNumeric("1.5")', False),
        ('IsNumeric("-12")', True),
        ("IsString(Now())", True),
        ("IsPresent(IgnoreThisFlow)", False),
        # Math
        ("BitAnd(-1, &HFF)", 255),
        ("BitOr(0, 0)", 0),
        # Multi-valued
        ('Contains(Split("SMTP:a,smtp:b", ","), "smtp:", CaseInsensitive)', 1),
        ('Contains(Split("SMTP:a,smtp:b", ","), "smtp:", CaseSensitive)', 2),
        ('Contains(CRef("cn=a,dc=x"), "cn=a")', 0),
        ('Contains(CRef("cn=a,dc=x"), "cn=a,dc=x")', 1),
        ('Join(Split("a,b", ","))', "a b"),
        ('Join(Split("a,b", ","), NULL)', "ab"),
        ('Join(Split("a,b", ","), "")', "ab"),
        ('Join(Split("1", ","), ",") & Join(NULL)', "1"),
        ('Split("a,b,c", ",", 2)', ["a", "b,c"]),
        ('Split("a::b", "::")', ["a", "b"]),
        ('Count(Split("a,b,c", ","))', 3),
        ('ItemOrNull(Split("a,b", ","), 0)', None),
        # Flow
        ('Coalesce(NULL, "", "x", Error("lazy"))', "x"),
        ("Coalesce(NULL, NULL)", None),
        ('RegexReplace("John Smith", "(\\w+) (\\w+)", "$2, $1 $$")', "Smith, John $"),
        ('RegexReplace("a1b22", "(?P<d>\\d+)", "<${d}>")', "a<1>b<22>"),
    ],
)
def test_function_detail(text: str, expected: object) -> None:
    result = ev(text)
    assert result == expected
    if expected is None or isinstance(expected, bool):
        assert result is expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("yyyy-MM-dd HH:mm:ss", "2024-03-09 14:05:07"),
        ("yy M d H m s", "24 3 9 14 5 7"),
        ("dddd, MMMM dd", "Saturday, March 09"),
        ("ddd MMM", "Sat Mar"),
        ("hh:mm tt", "02:05 PM"),
        ("h t", "2 P"),
        ("HH:mm:ss.fff", "14:05:07.123"),
        ("ss.FFFFFFF", "07.123456"),
        ("yyyyMMddHHmmss.0Z", "20240309140507.0Z"),
        ("'Day' d", "Day 9"),
        ('"at" HH\\h', "at 14h"),
        ("%d", "9"),
        ("zzz K", "+00:00 Z"),
        ("o", "2024-03-09T14:05:07.1234560Z"),
        ("s", "2024-03-09T14:05:07"),
        ("u", "2024-03-09 14:05:07Z"),
        ("d", "03/09/2024"),
        ("D", "Saturday, 09 March 2024"),
        ("r", "Sat, 09 Mar 2024 14:05:07 GMT"),
        ("T", "14:05:07"),
    ],
)
def test_format_date_time(fmt: str, expected: str) -> None:
    assert ev("FormatDateTime([d], [f])", {"d": D, "f": fmt}) == expected


def test_format_date_time_unclosed_quote() -> None:
    with pytest.raises(ExpressionEvalError, match="not closed"):
        ev('FormatDateTime(Now(), "\'yyyy")')


def test_string_from_sid_and_guid() -> None:
    sid = bytes.fromhex("010500000000000515000000a065cf7e784b9b5fe77c8770f4010000")
    assert ev("StringFromSid([s])", {"s": sid}) == "S-1-5-21-2127521184-1604012920-1887927527-500"
    with pytest.raises(ExpressionEvalError, match="sub-authorities"):
        ev("StringFromSid([s])", {"s": sid[:-1]})
    with pytest.raises(ExpressionEvalError, match="16 bytes"):
        ev("StringFromGuid([g])", {"g": b"\x00" * 15})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('CGuid("nope")', "is not a GUID"),
        ('CNum("12a")', "cannot read '12a' as a 64-bit integer"),
        ('CNum("99999999999999999999")', "64-bit integer"),
        ('CBool("yes")', "cannot convert"),
        ('CDate("someday")', "cannot read 'someday' as a date"),
        ('ConvertFromBase64("@@")', "is not Base64"),
        ('ConvertFromBase64("/w==", UTF8)', "not valid UTF8 text"),
        ('ConvertFromUTF8Hex("zz")', "is not hexadecimal UTF-8"),
        ('ConvertToBase64("é", ASCII)', "cannot be encoded as ASCII"),
        ('ReplaceChars("a", "ab:c")', "exactly one character"),
        ("RandomNum(5, 1)", "below the start"),
        ('RegexReplace("a", "(", "")', "invalid regular expression"),
        ('RegexReplace("a", "a", "$2")', "no group 2"),
        ('DNComponent("not a dn", 1)', "is not a type=value component"),
        ('Contains(Split("a", ","), "a", "Sometimes")', "must be one of"),
    ],
)
def test_function_errors_name_the_function(text: str, fragment: str) -> None:
    from reconciler.errors import ExpressionError

    with pytest.raises(ExpressionError) as caught:
        ev(text)
    assert fragment in caught.value.one_line()


def test_cref_keeps_reference_type_through_functions() -> None:
    assert isinstance(ev('CRef("cn=a")'), Reference)
    assert ev('DNComponent(CRef("cn=a,dc=b"), 2)') == "b"
