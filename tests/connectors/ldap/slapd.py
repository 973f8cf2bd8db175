"""A real OpenLDAP slapd for the ldap connector tests, and connector settings that point at it.

slapd runs on 127.0.0.1 with a free port, with the schemas core, cosine, inetorgperson and nis, an
mdb database for ``dc=example,dc=org`` (syncprov, and the accesslog overlay the delta import reads)
and one for ``cn=accesslog``. ``conftest`` starts one per test session.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.playbook.model import ConnectorConfig, Secret

SLAPD = Path("/usr/sbin/slapd")
BASE = "dc=example,dc=org"
ADMIN = f"cn=admin,{BASE}"
PASSWORD = "s3cret-Adm1n-pw"  # the tests check that no message ever holds it
PASSWORD_ENV = "RECONCILER_TEST_LDAP_PASSWORD"

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
moduleload accesslog
sizelimit size.soft=1000 size.hard=unlimited size.pr=unlimited size.prtotal=unlimited

database mdb
suffix "cn=accesslog"
rootdn "{admin}"
directory {folder}/log
maxsize 268435456
dbnosync
index reqStart,reqEnd eq

database mdb
suffix "{base}"
rootdn "{admin}"
rootpw {password}
directory {folder}/db
maxsize 1073741824
dbnosync
index objectClass eq
index entryUUID,entryCSN,modifyTimestamp eq
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog 10000
overlay accesslog
logdb cn=accesslog
logops writes
logsuccess TRUE
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slapd:
    folder: Path
    uri: str = ""
    proc: Any = None
    conns: list[Any] = field(default_factory=list)

    def connection(self) -> Any:
        """A bound ldap3 connection as the admin (what a test uses to seed and to check)."""
        import ldap3

        conn = ldap3.Connection(ldap3.Server(self.uri, get_info=ldap3.NONE), ADMIN, PASSWORD,
                                auto_bind=True, raise_exceptions=True)  # fmt: skip
        self.conns.append(conn)
        return conn

    def start(self) -> None:
        conf = self.folder / "slapd.conf"
        for sub in ("db", "log"):
            (self.folder / sub).mkdir(exist_ok=True)
        conf.write_text(CONFIG.format(folder=self.folder, admin=ADMIN, base=BASE, password=PASSWORD))
        check = subprocess.run([str(SLAPD.parent / "slaptest"), "-u", "-f", str(conf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        for _ in range(5):  # a port taken between free_port() and slapd's bind: try another
            self.uri = f"ldap://127.0.0.1:{free_port()}"
            log = (self.folder / "slapd.out").open("w")
            self.proc = subprocess.Popen([str(SLAPD), "-f", str(conf), "-h", f"{self.uri}/", "-d", "0"],
                                         stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
            if self._wait():
                return
            self.stop()
        raise AssertionError(f"slapd did not start: {(self.folder / 'slapd.out').read_text()[-2000:]}")

    def _wait(self) -> bool:
        import ldap3

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                ldap3.Connection(ldap3.Server(self.uri, get_info=ldap3.NONE, connect_timeout=1), ADMIN, PASSWORD,
                                 auto_bind=True).unbind()  # fmt: skip
                return True
            except Exception:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.unbind()
        self.conns.clear()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    # ----------------------------------------------------------- test data
    def add_ou(self, name: str, parent: str = BASE) -> str:
        dn = f"ou={name},{parent}"
        self.connection().add(dn, ["organizationalUnit"], {"ou": name})
        return dn

    def add_person(self, dn: str, **attrs: Any) -> str:
        rdn_value = dn.split(",", 1)[0].split("=", 1)[1]
        classes = attrs.pop("objectClass", ["inetOrgPerson"])
        attrs.setdefault("cn", rdn_value)
        attrs.setdefault("sn", rdn_value)
        self.connection().add(dn, classes, attrs)
        return dn

    def entry(self, dn: str, *attributes: str) -> dict[str, Any] | None:
        """An entry's attributes (lists of text), or None when there is none."""
        import ldap3

        conn = self.connection()
        try:
            conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(attributes) or ["*", "entryUUID"])
        except ldap3.core.exceptions.LDAPNoSuchObjectResult:
            return None
        if not conn.response:
            return None
        return {k: [str(v) for v in vals] for k, vals in conn.response[0]["attributes"].items()}

    def children(self, dn: str) -> list[str]:
        import ldap3

        conn = self.connection()
        conn.search(dn, "(objectClass=*)", ldap3.LEVEL, attributes=["1.1"])
        return sorted(e["dn"] for e in conn.response)

    def delete_tree(self, dn: str) -> None:
        import ldap3

        conn = self.connection()
        try:
            conn.search(dn, "(objectClass=*)", ldap3.SUBTREE, attributes=["1.1"])
        except ldap3.core.exceptions.LDAPNoSuchObjectResult:
            return
        for found in sorted((e["dn"] for e in conn.response), key=lambda d: -d.count(",")):
            conn.delete(found)


def ldap_config(slapd: Slapd, containers: list[str] | None = None, *, name: str = "corp",
                password_env: str = PASSWORD_ENV, uri: str | None = None, **kw: Any) -> ConnectorConfig:  # fmt: skip
    """A ConnectorConfig as the playbook loader builds one, the password a secret from the environment."""
    options: dict[str, Any] = {
        "uri": uri or slapd.uri,
        "bind_dn": ADMIN,
        "password": Secret("env", password_env, Path.cwd()),
        "base_dn": BASE,
        **kw.pop("options", {}),
    }
    if containers:
        options["containers"] = containers
    kw.setdefault("object_types", {"inetOrgPerson": ["uid", "cn", "sn", "givenName", "mail", "manager",
                                                     "employeeNumber"]})  # fmt: skip
    kw.setdefault("anchor", ["entryUUID"])
    return ConnectorConfig(name=name, type="ldap", options=options, **kw)
