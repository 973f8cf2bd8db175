"""The examples of Microsoft's "Functions Reference" and "Understanding Declarative
Provisioning Expressions", evaluated as documented (or as docs/expressions.md explains)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from expr_helpers import ev

from reconciler.errors import ExpressionEvalError, ExpressionSyntaxError
from reconciler.expressions import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW, compile_expression

PROXIES = ["smtp:jd@contoso.com", "SMTP:john.doe@contoso.com", "SIP:john.doe@contoso.com"]


@pytest.mark.parametrize(
    ("text", "attrs", "expected"),
    [
        ("BitAnd(&HF, &HF7)", {}, 7),
        ("BitOr(&HF0, 5)", {}, 0xF5),
        ("CBool([attrib1] = [attrib2])", {"attrib1": "a", "attrib2": "a"}, True),
        ("CBool([attrib1] = [attrib2])", {"attrib1": "a", "attrib2": "b"}, False),
        ('CDate("2013-01-10 4:00 PM -8")', {}, datetime(2013, 1, 11, tzinfo=UTC)),
        (
            "CDate([employeeStartTime])",
            {"employeeStartTime": "2024-02-01T09:00:00"},
            datetime(2024, 2, 1, 9, tzinfo=UTC),
        ),
        ("CStr([dn])", {"dn": "cn=Joe,dc=contoso,dc=com"}, "cn=Joe,dc=contoso,dc=com"),
        ('ConvertFromBase64("SABlAGwAbABvACAAdwBvAHIAbABkACEA")', {}, "Hello world!"),
        ('ConvertFromBase64("SGVsbG8gd29ybGQh", UTF8)', {}, "Hello world!"),
        ('ConvertFromUTF8Hex("48656C6C6F20776F726C6421")', {}, "Hello world!"),
        ('ConvertToBase64("Hello world!")', {}, "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
        ('ConvertToUTF8Hex("Hello world!")', {}, "48656C6C6F20776F726C6421"),
        ('DateAdd("m", 3, CDate("2001-01-01"))', {}, datetime(2001, 4, 1, tzinfo=UTC)),
        ("DateFromNum(129699324000000000)", {}, datetime(2012, 1, 1, 23, tzinfo=UTC)),
        (
            "DateFromNum([lastLogonTimestamp])",
            {"lastLogonTimestamp": 129699324000000000},
            datetime(2012, 1, 1, 23, tzinfo=UTC),
        ),
        ("DNComponent(CRef([dn]),1)", {"dn": "cn=Joe,ou=Atlanta,dc=contoso,dc=com"}, "Joe"),
        ("DNComponentRev(CRef([dn]),3)", {"dn": "cn=Joe,ou=Atlanta,ou=GA,ou=US, dc=contoso,dc=com"}, "US"),
        (
            'DNComponentRev(CRef([dn]),1,"DC")',
            {"dn": "cn=Joe,ou=Atlanta,ou=GA,ou=US, dc=contoso,dc=com"},
            "US",
        ),
        ('FormatDateTime(CDate("12/25/2007"),"yyyy-MM-dd")', {}, "2007-12-25"),
        (
            'FormatDateTime(DateFromNum([pwdLastSet]),"yyyyMMddHHmmss.0Z")',
            {"pwdLastSet": 130543784930000000},
            "20140905081453.0Z",
        ),
        (
            'IIF([employeeType]="Intern","t-" & [alias],[alias])',
            {"employeeType": "Intern", "alias": "ada"},
            "t-ada",
        ),
        (
            'IIF([employeeType]="Intern","t-" & [alias],[alias])',
            {"employeeType": "FTE", "alias": "ada"},
            "ada",
        ),
        ('InStr("The quick brown fox","quick")', {}, 5),
        ('InStr("repEated","e",3,vbBinaryCompare)', {}, 7),
        ('InStr("repEated","e",3,vbTextCompare)', {}, 4),
        ('InStrRev("abbcdbbbef","bb")', {}, 7),
        ("IsBitSet(&HF,4)", {}, True),
        ("IIF(IsGuid([strAttribute]),CGuid([strAttribute]),NULL)", {"strAttribute": "not a guid"}, None),
        ("IsNull([displayName])", {}, True),
        ("IsNullOrEmpty([displayName])", {"displayName": ""}, True),
        (
            "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager],"
            " IsPresent([director]),[director])",
            {"skiplevelManager": "cn=boss"},
            "cn=boss",
        ),
        (
            'Mid(Item([proxyAddresses],Contains([proxyAddresses], "SMTP:")),6)',
            {"proxyAddresses": PROXIES},
            "john.doe@contoso.com",
        ),
        (
            'Join([proxyAddresses],",")',
            {"proxyAddresses": PROXIES[:2]},
            "smtp:jd@contoso.com,SMTP:john.doe@contoso.com",
        ),
        ('LCase("TeSt")', {}, "test"),
        ('Left("John Doe", 3)', {}, "Joh"),
        ('Len("John Doe")', {}, 8),
        ('LTrim(" Test ")', {}, "Test "),
        ('Mid("John Doe", 3, 5)', {}, "hn Do"),
        ('Mid("John Doe", 6, 999)', {}, "Doe"),
        ('NumFromDate(CDate("2012-01-01 23:00:00"))', {}, 129699324000000000),
        ('PadLeft("User", 10, "0")', {}, "000000User"),
        ('PadRight("User", 10, "0")', {}, "User000000"),
        ('PCase("TEsT")', {}, "Test"),
        ('PCase(LCase("TEST"))', {}, "Test"),
        ("RemoveDuplicates([proxyAddresses])", {"proxyAddresses": ["a", "b", "a"]}, ["a", "b"]),
        (
            'Replace([address],"\\r\\n",", ")',
            {"address": "One Microsoft Way\r\nRedmond, WA\r\nUSA"},
            "One Microsoft Way, Redmond, WA, USA",
        ),
        ('Right("John Doe", 3)', {}, "Doe"),
        ('RTrim(" Test ")', {}, " Test"),
        (
            'Select($item,[otherPhone],Replace($item,"-",""))',
            {"otherPhone": ["555-1234", "555-98-76"]},
            ["5551234", "5559876"],
        ),
        (
            'Split("SMTP:john.doe@contoso.com,smtp:jd@contoso.com",",")',
            {},
            ["SMTP:john.doe@contoso.com", "smtp:jd@contoso.com"],
        ),
        (
            'Switch([city] = "London", "English", [city] = "Rome", "Italian", [city] = "Paris", "French", True,'
            ' Error("Unknown city"))',
            {"city": "Rome"},
            "Italian",
        ),
        ('Trim(" Test ")', {}, "Test"),
        ("Trim([proxyAddresses])", {"proxyAddresses": [" a ", "b "]}, ["a", "b"]),
        ('UCase("TeSt")', {}, "TEST"),
        ('Word("The quick brown fox",3," ")', {}, "brown"),
        ('Word("This,string!has&many separators",3,",!&#")', {}, "has"),
        # "Understanding Declarative Provisioning Expressions"
        (
            'Word([proxyAddresses],1,"@") & "@contoso.com"',
            {"proxyAddresses": ["smtp:a@fabrikam.com", "SMTP:b@x.org"]},
            ["smtp:a@contoso.com", "SMTP:b@contoso.com"],
        ),
        (
            'IIF(InStr([proxyAddresses],"SIP:")=1,NULL,[proxyAddresses])',
            {"proxyAddresses": PROXIES},
            PROXIES[:2],
        ),
        ("%Domain.Netbios%", {}, "FABRIKAMSALES"),
        ("2*(5+3)", {}, 16),
        ("2*5+3", {}, 13),
        ("10-2*3", {}, 24),
        ("98052", {}, 98052),
        ("&HFF", {}, 255),
        # "Understanding Declarative Provisioning"
        (
            "IIF([cloudSOAExchMailbox] = True,[cloudMSExchSafeSendersHash],IgnoreThisFlow)",
            {"cloudSOAExchMailbox": True, "cloudMSExchSafeSendersHash": b"\x01\x02"},
            b"\x01\x02",
        ),
        (
            "IIF([cloudSOAExchMailbox] = True,[cloudMSExchSafeSendersHash],IgnoreThisFlow)",
            {"cloudSOAExchMailbox": False},
            IGNORE_THIS_FLOW,
        ),
        (
            'RemoveDuplicates(Trim(ImportedValue("proxyAddresses")))',
            {"proxyAddresses": [" a", "a ", "b"]},
            ["a", "b"],
        ),
    ],
)
def test_documented_example(text: str, attrs: dict[str, object], expected: object) -> None:
    assert ev(text, attrs, params={"Domain.Netbios": "FABRIKAMSALES"}) == expected


def test_contains_example_returns_addresses_or_error() -> None:
    text = (
        'IIF(Contains([proxyAddresses],"SMTP:")>0,[proxyAddresses],Error("No primary SMTP address found."))'
    )
    assert ev(text, {"proxyAddresses": PROXIES}) == PROXIES
    with pytest.raises(ExpressionEvalError, match="No primary SMTP address found"):
        ev(text, {"proxyAddresses": ["smtp:a@b"]})


def test_error_example() -> None:
    text = 'IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))'
    assert ev(text, {"accountName": "ada"}) == "ada"
    with pytest.raises(ExpressionEvalError, match=r"^Error: AccountName is required$"):
        ev(text, {})


def test_switch_example_errors_on_unknown_city() -> None:
    text = 'Switch([city] = "London", "English", [city] = "Paris", "French", True, Error("Unknown city"))'
    with pytest.raises(ExpressionEvalError, match="Unknown city"):
        ev(text, {"city": "Oslo"})


def test_cref_example_with_parameter() -> None:
    text = 'CRef("CN=LC Services,CN=Microsoft,CN=lcspool01,CN=Pools,CN=RTC Service," & %Forest.LDAP%)'
    assert ev(text, params={"Forest.LDAP": "DC=fabrikam,DC=com"}).endswith(
        "CN=RTC Service,DC=fabrikam,DC=com"
    )


def test_escape_dn_component_example() -> None:
    text = 'EscapeDNComponent("cn=" & [displayName]) & "," & %ForestLDAP%'
    result = ev(text, {"displayName": "Doe, John <Jr>"}, params={"ForestLDAP": "DC=fabrikam,DC=com"})
    assert result == "cn=Doe\\, John \\<Jr\\>,DC=fabrikam,DC=com"


def test_replace_chars_example() -> None:
    # the reference writes the last pair as "ö,o"; a pattern item needs its colon (see docs/expressions.md)
    pattern = "’:,Å:A,Ä:A,Ö:O,å:a,ä:a,ö:o"
    assert ev('ReplaceChars("Räksmörgås",%ReplaceString%)', params={"ReplaceString": pattern}) == "Raksmorgas"
    assert ev('ReplaceChars("O’Neil",%ReplaceString%)', params={"ReplaceString": pattern}) == "ONeil"
    with pytest.raises(ExpressionEvalError, match="has no ':'"):
        ev('ReplaceChars("ö", "ö,o")')


def test_random_example_name_suggests_randomnum() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression("Random(100,999)")
    assert caught.value.one_line().endswith("(did you mean RandomNum?)")
    assert caught.value.column == 1
    assert 100 <= ev("RandomNum(100,999)") <= 999


def test_guid_is_new_each_time() -> None:
    first, second = ev("Guid()"), ev("GUID()")
    assert first != second and ev(f'IsGuid("{first}")') is True


def test_now_is_utc() -> None:
    now = compile_expression("Now()").evaluate({})
    assert now.tzinfo is not None and now.utcoffset().total_seconds() == 0


def test_authoritative_null_literal() -> None:
    assert ev("IIF(IsPresent([x]), [x], AuthoritativeNull)") is AUTHORITATIVE_NULL
    assert repr(AUTHORITATIVE_NULL) == "AuthoritativeNull"
