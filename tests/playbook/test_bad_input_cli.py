"""Bad input through the real CLI (a subprocess, as a user runs it): one clear line, exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import SecretError
from reconciler.playbook.model import Mark, Secret

CLI = str(Path(sys.executable).parent / "reconciler")
GOOD = "version: 1\nmetaverse: {person: {a: {type: string}}}\nconnectors: {}\nsync_rules: []\n"
CASES = {
    "malformed": ("version: 1\nmetaverse: {person: {a: {type: string}}\n  bad: [\n", ":3:3: malformed YAML"),
    "wrong-type": (GOOD.replace("version: 1", "version: one"), ":1:10: version: 'one' is not one of: 1"),
    "unknown-key": (GOOD + "frobnicate: 1\n", ":5:1: unknown key 'frobnicate' in the playbook"),
    "not-utf8": ("version: 1\n\udcff\n", ": not UTF-8 text"),
}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60)


def _one_error(done: subprocess.CompletedProcess[str], where: str, expected: str) -> None:
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    first = out.splitlines()[0].removeprefix("error: ")
    assert first.startswith(where) and expected in first, out


@pytest.mark.parametrize("verb", ["validate", "plan"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file(tmp_path: Path, verb: str, case: str) -> None:
    content, expected = CASES[case]
    path = tmp_path / "pb.yml"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    _one_error(_run(verb, str(path)), str(path), expected)


@pytest.mark.parametrize("verb", ["validate", "plan"])
def test_unreadable_file_in_a_playbook_folder(tmp_path: Path, verb: str) -> None:
    folder = tmp_path / "pb"
    folder.mkdir()
    (folder / "a.yml").write_text(GOOD)
    (folder / "b.yml").symlink_to(tmp_path / "gone.yml")  # unreadable even for root, unlike chmod 000
    _one_error(_run(verb, str(folder)), str(folder / "b.yml"), "cannot read the file")


@pytest.mark.parametrize("verb", ["validate", "plan"])
def test_missing_playbook(tmp_path: Path, verb: str) -> None:
    _one_error(_run(verb, str(tmp_path / "nope.yml")), str(tmp_path / "nope.yml"), "no such file or folder")


def test_missing_secret_variable_is_named_by_validate_never_a_value(tmp_path: Path) -> None:
    path = tmp_path / "pb.yml"
    path.write_text(
        GOOD.replace(
            "connectors: {}",
            "connectors:\n  corp: {type: ldap, uri: 'ldap://127.0.0.1:1', bind_dn: x, base_dn: 'dc=x',"
            " password: {env: RECONCILER_TEST_UNSET_VAR}, object_types: {inetOrgPerson: [uid]}, anchor: entryUUID}",
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "RECONCILER_TEST_UNSET_VAR"}
    done = subprocess.run([CLI, "validate", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in done.stdout + done.stderr
    assert "environment variable RECONCILER_TEST_UNSET_VAR is not set" in done.stdout


def test_revealing_a_missing_secret_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_TEST_UNSET_VAR", raising=False)
    with pytest.raises(SecretError) as info:
        Secret("env", "RECONCILER_TEST_UNSET_VAR", tmp_path, Mark("pb.yml", 4, 5)).reveal()
    assert info.value.exit_code == 1
    assert "pb.yml:4:5: environment variable RECONCILER_TEST_UNSET_VAR is not set" in info.value.one_line()
    with pytest.raises(SecretError, match=r"secret file .*missing\.pem cannot be read"):
        Secret("file", "missing.pem", tmp_path).reveal()
