"""An ldap connector's playbook keys, checked once when the connector opens (nothing is connected).

``uri``, ``bind_dn``, ``password`` (a secret, revealed only at the bind), ``base_dn``, ``containers``
(OU filtering: import only below them, export refuses DNs outside them), ``object_types``
({objectClass: [attributes]}), ``anchor`` (entryUUID by default), ``use_ssl`` / ``ca_file`` and
``page_size``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.connectors.ldap import dn as dnlib
from reconciler.errors import UserError
from reconciler.playbook.model import ConnectorConfig, Secret

#: Anchors the directory assigns when an entry is added (read back after the add).
SYSTEM_ANCHORS = frozenset({"entryuuid", "objectguid", "nsuniqueid", "ipauniqueid", "guid"})
#: Attributes a directory takes but never gives back as written: exported, never compared or read.
PASSWORD_ATTRIBUTES = frozenset(
    {"userpassword", "unicodepwd", "authpassword", "clearTextPassword".lower(), "sambantpassword",
     "sambalmpassword"}
)  # fmt: skip
DEFAULT_PAGE_SIZE = 500
DEFAULT_TIMEOUT = 30.0


@dataclass
class Settings:
    name: str
    uri: str
    bind_dn: str | None
    password: Any  # a Secret (or None for an anonymous bind): revealed only by ``reveal_password``
    base_dn: str
    containers: list[str]
    object_types: dict[str, list[str]]
    anchor: list[str]
    use_ssl: bool
    ca_file: Path | None
    page_size: int
    timeout: float

    @property
    def system_anchor(self) -> bool:
        """Whether the directory assigns the anchor (entryUUID): it is read back after an add."""
        return len(self.anchor) == 1 and self.anchor[0].lower() in SYSTEM_ANCHORS

    @property
    def password_source(self) -> str:
        """Where the password comes from, for messages: never its value."""
        if isinstance(self.password, Secret):
            return self.password.describe()
        return "the playbook" if self.password else "none (anonymous bind)"

    def reveal_password(self) -> str | None:
        if self.password is None:
            return None
        if isinstance(self.password, Secret):
            return self.password.reveal()
        return str(self.password)

    def attributes(self) -> list[str]:
        """Every configured attribute once (first spelling kept), across object types."""
        seen: dict[str, str] = {}
        for attrs in self.object_types.values():
            for a in attrs:
                seen.setdefault(a.lower(), a)
        return list(seen.values())

    def digest(self) -> str:
        """What an import depends on: a watermark made under other settings is not used again."""
        data = json.dumps(
            [dnlib.norm(self.base_dn), sorted(dnlib.norm(c) for c in self.containers),
             {k.lower(): sorted(a.lower() for a in v) for k, v in self.object_types.items()},
             [a.lower() for a in self.anchor]],
            sort_keys=True,
        )  # fmt: skip
        return hashlib.blake2b(data.encode(), digest_size=6).hexdigest()


def read_settings(config: ConnectorConfig) -> Settings:
    name = config.name
    where = f"connector {name}"

    def text(key: str, required: bool = False) -> str | None:
        value = config.option(key)
        if value is None or value == "":
            if required:
                raise UserError(f"{where}: an ldap connector needs `{key}`", hint=_HINTS[key])
            return None
        return str(value)

    uri = text("uri", required=True) or ""
    if not uri.lower().startswith(("ldap://", "ldaps://")):
        raise UserError(f"{where}: uri {uri!r} must start with ldap:// or ldaps://",
                        hint="e.g. uri: ldap://ldap.example.org:389")  # fmt: skip
    base_dn = text("base_dn", required=True) or ""
    containers = _regroup([str(c) for c in config.option("containers") or []], base_dn) or [base_dn]
    for c in containers:
        if not dnlib.is_under(c, base_dn):
            raise UserError(f"{where}: container {c} is not under base_dn {base_dn}",
                            hint="list containers inside base_dn, or widen base_dn; in a YAML flow list "
                                 "quote each DN: ['ou=people,dc=example,dc=org']")  # fmt: skip
    if not config.object_types:
        raise UserError(f"{where}: an ldap connector needs `object_types`",
                        hint="e.g. object_types: {inetOrgPerson: [uid, cn, sn, mail]}")  # fmt: skip
    page_size = config.option("page_size") or DEFAULT_PAGE_SIZE
    if not isinstance(page_size, int) or page_size < 1:
        raise UserError(f"{where}: page_size must be a positive integer, not {page_size!r}")
    timeout = config.option("timeout") or DEFAULT_TIMEOUT
    ca = config.path_option("ca_file")
    return Settings(
        name=name,
        uri=uri,
        bind_dn=text("bind_dn"),
        password=config.option("password"),
        base_dn=base_dn,
        containers=dnlib.outermost(containers),
        object_types={t: list(a) for t, a in config.object_types.items()},
        anchor=list(config.anchor) or ["entryUUID"],
        use_ssl=bool(config.option("use_ssl")) or uri.lower().startswith("ldaps://"),
        ca_file=ca,
        page_size=page_size,
        timeout=float(timeout),
    )


def _regroup(items: list[str], base_dn: str) -> list[str]:
    """Containers as DNs. YAML reads the unquoted flow list ``[ou=people,dc=example,dc=org]`` (as
    DESIGN.md writes it) as three items; consecutive items that only together make a DN under
    ``base_dn`` are joined again. Lists of whole DNs are left alone."""
    if all(dnlib.is_under(i, base_dn) for i in items):
        return items
    out: list[str] = []
    current: list[str] = []
    for item in items:
        current.append(item.strip())
        joined = ",".join(current)
        if dnlib.is_under(joined, base_dn):
            out.append(joined)
            current = []
    return out + ([",".join(current)] if current else [])


_HINTS = {
    "uri": "e.g. uri: ldap://127.0.0.1:389",
    "base_dn": "the naming context to search, e.g. base_dn: dc=example,dc=org",
}
