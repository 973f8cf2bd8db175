"""Meaning checks: names that must exist, precedence collisions, references, expressions, files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.connectors.base import AttributeSchema, ConnectorSchema
from reconciler.playbook import load_playbook, validate_playbook

from .conftest import BASE, Writer, errors_of, line_of, only_error


def test_the_base_playbook_is_valid(write: Writer) -> None:
    report = validate_playbook(write(BASE))
    assert report.valid and not report.diagnostics and report.playbook is not None


@pytest.mark.parametrize(
    ("old", "new", "line_needle", "expected"),
    [
        (
            "connector: hr\n",
            "connector: hrr\n",
            "connector: hrr",
            "rule 'In from HR': unknown connector 'hrr' (did you mean 'hr'?)",
        ),
        (
            "    cs_type: person\n    mv_type: person\n    precedence: 100\n    scope",
            "    cs_type: people\n    mv_type: person\n    precedence: 100\n    scope",
            "cs_type: people",
            "rule 'In from HR': connector hr holds no object type 'people' (it holds: person)",
        ),
        (
            "    mv_type: person\n    precedence: 100\n    scope",
            "    mv_type: persn\n    precedence: 100\n    scope",
            "mv_type: persn",
            "rule 'In from HR': the metaverse has no object type 'persn' (did you mean 'person'?)",
        ),
        (
            "{mv: employeeId, cs: employeeId}",
            "{mv: employeeID, cs: employeeId}",
            "{mv: employeeID",
            "rule 'In from HR': flows[0]: 'employeeID' is not among the attributes of metaverse type person "
            "(did you mean 'employeeId'?)",
        ),
        (
            "{mv: employeeId, cs: employeeId}",
            "{mv: employeeId, cs: employeeNo}",
            "cs: employeeNo",
            "rule 'In from HR': flows[0]: 'employeeNo' is not among the attributes of hr.csv",
        ),
        (
            "{cs: cn, mv: displayName}",
            "{cs: commonName, mv: displayName}",
            "commonName",
            "rule 'Out to directory': flows[1]: 'commonName' is not among the columns of connector directory",
        ),
        (
            "{cs: cn, mv: displayName}",
            "{cs: cn, mv: displayname}",
            "mv: displayname",
            "(did you mean 'displayName'?)",
        ),
        (
            "{attribute: status,",
            "{attribute: state,",
            "attribute: state",
            "rule 'In from HR': scope: 'state' is not among the attributes of hr.csv (did you mean 'status'?)",
        ),
        (
            "[[{cs: employeeId, mv: employeeId}]]",
            "[[{cs: employeeId, mv: employee}]]",
            "mv: employee}",
            "rule 'In from HR': join: 'employee' is not among the attributes of metaverse type person",
        ),
        (
            "value: active}]]",
            "value: [active]}]]",
            "value: [active]",
            "rule 'In from HR': EQUAL takes one value",
        ),
        ("op: EQUAL, value: active", "op: ISIN, value: active", "op: ISIN", "ISIN takes a list of values"),
        (
            "{mv: manager, cs: manager}",
            "{mv: mail, cs: manager}",
            "{mv: mail, cs: manager}",
            "manager of connector hr is a reference, but metaverse attribute mail is of type string",
        ),
        (
            "{mv: manager, cs: manager}",
            "{mv: manager, cs: sn}",
            "{mv: manager, cs: sn}",
            "metaverse attribute manager is a reference, but sn of connector hr is not",
        ),
        (
            "{cs: cn, mv: displayName}",
            "{cs: cn, mv: manager}",
            "{cs: cn, mv: manager}",
            "metaverse attribute manager is a reference, but cn of connector directory is not",
        ),
        (
            "references: {manager: uid}",
            "references: {manager: {connector: hrx, key: uid}}",
            "connector: hrx",
            "connector directory: references.manager names unknown connector 'hrx' (did you mean 'hr'?)",
        ),
        (
            "references: {manager: employeeId}",
            "references: {manager: employeeNumber}",
            "employeeNumber",
            "connector hr: references.manager names key 'employeeNumber', which is not among the attributes of hr.csv",
        ),
        (
            "  - name: Out to directory",
            "  - name: In from HR",
            "name: In from HR', 2",
            "rule name 'In from HR' is used twice (first at",
        ),
    ],
)
def test_meaning_errors_point_at_their_line(
    write: Writer, old: str, new: str, line_needle: str, expected: str
) -> None:
    assert old in BASE
    path = write(BASE.replace(old, new, 1))
    needle, _, occurrence = line_needle.partition("', ")
    line = line_of(path, needle.rstrip("'"), int(occurrence) if occurrence else 1)
    message = only_error(path)
    assert message.startswith(f"{path}:{line}:"), message
    assert expected in message, message


def test_equal_precedence_on_one_attribute_is_an_error_in_both_directions(write: Writer) -> None:
    extra = """\
  - name: Names from HR
    connector: hr
    direction: inbound
    cs_type: person
    mv_type: person
    precedence: 100
    flows:
      - {mv: displayName, cs: givenName}
  - name: Mail to directory
    connector: directory
    direction: outbound
    mv_type: person
    cs_type: person
    precedence: 100
    flows:
      - {cs: mail, mv: mail}
"""
    path = write(BASE + extra)
    first_display = line_of(path, "{mv: displayName, expression")
    first_mail = line_of(path, "{cs: mail, expression")
    assert errors_of(validate_playbook(path)) == [
        f"{path}:{line_of(path, '{mv: displayName, cs: givenName}')}:9: rule 'Names from HR': rules 'In from HR' "
        f"(at {path}:{first_display}:9) and 'Names from HR' both write metaverse attribute person.displayName "
        "with precedence 100; give one of them another precedence",
        f"{path}:{line_of(path, '{cs: mail, mv: mail}')}:9: rule 'Mail to directory': rules 'Out to directory' "
        f"(at {path}:{first_mail}:9) and 'Mail to directory' both write directory attribute person.mail "
        "with precedence 100; give one of them another precedence",
    ]
    # different precedences are how several rules share an attribute; disabled rules don't count
    assert validate_playbook(write(BASE + extra.replace("precedence: 100", "precedence: 50"))).valid
    assert validate_playbook(
        write(BASE + extra.replace("    flows:", "    enabled: false\n    flows:"))
    ).valid


def test_expression_syntax_error_points_into_the_string(write: Writer) -> None:
    path = write(BASE.replace("'[givenName] & \" \" & [sn]'", "'[givenName] & \" \" & LCse([sn])'"))
    line = line_of(path, "LCse")
    column = path.read_text().splitlines()[line - 1].index("LCse") + 1
    assert only_error(path) == (
        f"{path}:{line}:{column}: rule 'In from HR': flows[1]: expression: unknown function 'LCse' "
        "(did you mean LCase?)"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Left([sn])", "Left takes 2 arguments, got 1 (Left(str, num))"),
        ('Trim([sn], "x")', "Trim takes 1 argument, got 2"),
        ("IIF(IsPresent([sn]), [sn])", "IIF takes 3 arguments, got 2"),
    ],
)
def test_argument_count_errors_are_caught_at_validate_time(write: Writer, call: str, message: str) -> None:
    path = write(BASE.replace("'[givenName] & \" \" & [sn]'", f"'[givenName] & \" \" & {call}'"))
    error = only_error(path)
    assert error.startswith(f"{path}:{line_of(path, call)}:"), error
    assert f"rule 'In from HR': flows[1]: expression: {message}" in error


def test_expression_error_in_a_block_scalar_points_at_its_line(write: Writer) -> None:
    text = BASE.replace(
        "      - {cs: cn, mv: displayName}\n",
        '      - cs: cn\n        expression: |\n          IIF(IsPresent([displayName]),\n            [displayName] &, "x")\n',
    )
    path = write(text)
    message = only_error(path)
    assert message.startswith(f"{path}:{line_of(path, '[displayName] &,')}:"), message


def test_expression_attributes_must_exist_on_the_source_side(write: Writer) -> None:
    path = write(BASE.replace("'[givenName] & \" \" & [sn]'", "'[givenName] & \" \" & [surname]'"))
    line = line_of(path, "[surname]")
    column = path.read_text().splitlines()[line - 1].index("[surname]") + 1
    assert only_error(path) == (
        f"{path}:{line}:{column}: rule 'In from HR': flows[1]: expression reads [surname], "
        "which is not among the attributes of hr.csv"
    )
    # outbound expressions read the metaverse
    path = write(BASE.replace("'LCase([displayName])", "'LCase([givenName])"))
    assert (
        "expression reads [givenName], which is not among the attributes of metaverse type person"
        in only_error(path)
    )


def test_dn_expressions_are_checked(write: Writer) -> None:
    path = write(
        BASE.replace(
            "    columns: [uid, cn, mail, manager]\n",
            "    columns: [uid, cn, mail, manager]\n    dn: '\"uid=\" & [uidd]'\n",
        )
    )
    assert "connector directory: dn: expression reads [uidd]" in only_error(path)


def test_file_connector_outbound_dn_is_a_warning(write: Writer) -> None:
    path = write(
        BASE.replace("    provision: true\n", "    provision: true\n    dn: '\"uid=\" & [employeeId]'\n")
    )
    report = validate_playbook(path)
    assert report.valid
    assert [str(d) for d in report.warnings] == [
        f"{path}:{line_of(path, 'dn: ')}:9: warning: rule 'Out to directory': dn is ignored for csv connector "
        "directory (its DN comes from the connector's dn, or anchor=value)"
    ]


def test_ldap_provisioning_needs_a_dn_and_names_are_case_insensitive(write: Writer) -> None:
    text = BASE.replace(
        "sync_rules:",
        "  corp:\n    type: ldap\n    uri: ldap://127.0.0.1:3890\n    base_dn: dc=example,dc=org\n"
        "    object_types: {inetOrgPerson: [uid, cn, mail]}\n    anchor: entryUUID\nsync_rules:",
    ) + (
        "  - name: Out to corp\n    connector: corp\n    direction: outbound\n    mv_type: person\n"
        "    cs_type: inetOrgPerson\n    precedence: 100\n    provision: true\n"
        "    flows: [{cs: UID, mv: employeeId}]\n"
    )
    path = write(text)
    assert only_error(path).endswith(
        "rule 'Out to corp': provision needs a dn expression for ldap connector corp"
    )
    assert validate_playbook(
        write(text.replace("    provision: true\n", "    provision: true\n    dn: '[x]'\n"))
    ).errors


def test_cached_server_schema_hook(write: Writer) -> None:
    text = BASE.replace(
        "sync_rules:",
        "  corp:\n    type: ldap\n    uri: ldap://127.0.0.1:3890\n    base_dn: dc=example,dc=org\n"
        "    object_types: {inetOrgPerson: [uid, cn, mial, seeAlso]}\n    anchor: entryUUID\nsync_rules:",
    ) + (
        "  - name: Out to corp\n    connector: corp\n    direction: outbound\n    mv_type: person\n"
        "    cs_type: inetOrgPerson\n    precedence: 100\n"
        "    flows: [{cs: uid, mv: employeeId}, {cs: seeAlso, mv: displayName}]\n"
    )
    path = write(text)
    assert validate_playbook(path).valid  # without a cached schema nothing is known of the server
    server = ConnectorSchema(
        {
            "inetOrgPerson": {
                n: AttributeSchema(n, reference=n in ("manager", "seeAlso"))
                for n in ("uid", "cn", "mail", "manager", "seeAlso", "entryUUID")
            }
        }
    )
    messages = errors_of(validate_playbook(path, schemas={"corp": server}))
    assert len(messages) == 2, messages
    assert (
        "connector corp: the server's inetOrgPerson has no attribute 'mial' (did you mean 'mail'?)"
        in messages[0]
    )
    assert (
        "seeAlso of connector corp is a reference, but metaverse attribute displayName is of type string"
        in messages[1]
    )


def test_file_headers_are_read_when_the_files_exist(write: Writer) -> None:
    path = write(BASE)
    (path.parent / "hr.csv").write_text("employeeId;givenName;sn;status;manager\n", encoding="utf-8")
    text = BASE.replace(
        "    references: {manager: employeeId}\n",
        "    references: {manager: employeeId}\n    delimiter: ';'\n",
    )
    assert validate_playbook(write(text)).valid
    path = write(BASE)
    (path.parent / "hr.csv").write_text("employeeId,givenName,status,manager\n", encoding="utf-8")
    assert "expression reads [sn], which is not among the attributes of hr.csv" in only_error(path)
    # without the file nothing is known, so nothing is reported
    (path.parent / "hr.csv").unlink()
    assert validate_playbook(path).valid


def test_json_and_ldif_files_give_their_attribute_names(write: Writer) -> None:
    text = BASE.replace("type: csv\n    path: hr.csv", "type: json\n    path: hr.json")
    path = write(text)
    people = [{"employeeId": "1", "givenName": "Ada", "sn": "L", "status": "active"}, {"manager": "1"}]
    (path.parent / "hr.json").write_text(json.dumps(people), encoding="utf-8")
    assert validate_playbook(path).valid
    (path.parent / "hr.json").write_text(json.dumps(people[:1]), encoding="utf-8")
    assert "'manager' is not among the attributes of hr.json" in str(validate_playbook(path).errors[0])

    text = BASE.replace("type: csv\n    path: hr.csv", "type: ldif\n    path: hr.ldif")
    path = write(text)
    (path.parent / "hr.ldif").write_text(
        "version: 1\n\ndn: uid=1,dc=x\nemployeeId: 1\ngivenName: Ada\nsn:: TG92ZWxhY2U=\nstatus: active\n"
        "manager: uid=2,dc=x\n",
        encoding="utf-8",
    )
    assert validate_playbook(path).valid


def test_anchor_must_be_in_the_file(write: Writer) -> None:
    path = write(BASE.replace("    anchor: employeeId\n", "    anchor: personId\n"))
    messages = errors_of(validate_playbook(path))
    assert any("connector hr: anchor 'personId' is not among the attributes of hr.csv" in m for m in messages)


def test_secret_variables_not_set_are_warnings_naming_the_variable(
    write: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = BASE.replace(
        "  directory:\n",
        "  corp:\n    type: ldap\n    uri: ldap://127.0.0.1\n    base_dn: dc=example,dc=org\n"
        "    password: {env: PB_MEANING_PW}\n    object_types: {inetOrgPerson: [uid]}\n    anchor: entryUUID\n"
        "  directory:\n",
    )
    monkeypatch.delenv("PB_MEANING_PW", raising=False)
    path = write(text)
    report = validate_playbook(path)
    assert report.valid
    assert [str(d) for d in report.warnings] == [
        f"{path}:{line_of(path, 'password:')}:15: warning: connector corp: password: environment variable "
        "PB_MEANING_PW is not set (needed when the connector opens)"
    ]
    monkeypatch.setenv("PB_MEANING_PW", "s3cr3t")
    assert not validate_playbook(path).diagnostics
    load_playbook(path)


def test_load_playbook_raises_the_first_error_with_a_count(write: Writer) -> None:
    from reconciler.errors import PlaybookError

    path = write(
        BASE.replace("connector: hr\n", "connector: hrr\n").replace(
            "connector: directory\n", "connector: dir\n"
        )
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    line = info.value.one_line()
    assert line.startswith(
        f"{path}:{line_of(path, 'connector: hrr')}:16: rule 'In from HR': unknown connector 'hrr'"
    )
    assert line.endswith(f"(and 1 more; `reconciler validate {path}` lists them all)")


def test_graph_references_are_known(write: Writer, tmp_path: Path) -> None:
    text = BASE.replace(
        "sync_rules:",
        "  entra:\n    type: graph\n    tenant: contoso\n    client_id: abc\n"
        "    object_types: {user: [displayName, manager]}\nsync_rules:",
    ) + (
        "  - name: Out to Entra\n    connector: entra\n    direction: outbound\n    mv_type: person\n"
        "    cs_type: user\n    precedence: 100\n    flows: [{cs: manager, mv: displayName}]\n"
    )
    message = only_error(write(text))
    assert (
        "manager of connector entra is a reference, but metaverse attribute displayName is of type string"
        in message
    )
