"""Redaction: sensitive metaverse attributes and every secret are masked before anything is rendered.

A CS attribute is sensitive when the engine says so (``AttributeDelta.sensitive``), when an outbound
flow writes it from a ``sensitive: true`` metaverse attribute (directly or inside an expression), or
when it is a password-like attribute (Graph passwordProfile, AD unicodePwd…). On top of that, any
value that contains the value of a secret the playbook names ({env: …}/{file: …}) is masked wherever
it appears, so a secret that leaks into data is still never printed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ReconcilerError
from reconciler.plan.model import AttributeDelta, LazyChange, PlannedChange
from reconciler.playbook.model import Playbook, Secret

REDACTED = "(sensitive)"
SECRET_MASK = "(secret)"
# attributes that carry credentials whatever the playbook says
PASSWORD_ATTRIBUTES = frozenset({"passwordprofile", "unicodepwd", "userpassword", "password"})
_MIN_SECRET_LENGTH = 4  # shorter "secrets" would mask ordinary words


@dataclass
class Redactor:
    """Knows what to mask; built once per plan from the playbook (or empty, for tests)."""

    sensitive: set[tuple[str, str]] = field(default_factory=set)  # (connector, cs attribute) lower-case
    sensitive_anywhere: set[str] = field(default_factory=set)  # MV attribute names, lower-case
    secrets: list[str] = field(default_factory=list)

    @classmethod
    def for_playbook(cls, playbook: Playbook) -> Redactor:
        mv_sensitive = {name.lower() for name in playbook.sensitive_attributes()}
        pairs: set[tuple[str, str]] = set()
        for rule in playbook.sync_rules:
            if rule.direction != "outbound":
                continue
            for flow in rule.flows:
                if _reads_sensitive(flow.source, flow.expression, mv_sensitive):
                    pairs.add((rule.connector.lower(), flow.target.lower()))
        return cls(sensitive=pairs, sensitive_anywhere=mv_sensitive, secrets=_revealable(playbook.raw))

    @classmethod
    def for_sources(cls, playbook: Playbook) -> Redactor:
        """``for_playbook``, also masking the CS attributes an inbound flow reads into a sensitive MV
        attribute: a plan never shows a source's values, search and explain do."""
        redactor = cls.for_playbook(playbook)
        for rule in playbook.sync_rules:
            if rule.direction != "inbound":
                continue
            for flow in rule.flows:
                if flow.target.lower() in redactor.sensitive_anywhere:
                    names = _names_read(flow.source, flow.expression)
                    redactor.sensitive.update((rule.connector.lower(), n.lower()) for n in names)
        return redactor

    def is_sensitive(self, connector: str, delta: AttributeDelta) -> bool:
        return delta.sensitive or self._sensitive_name(connector.lower(), delta.name.lower())

    def _sensitive_name(self, connector: str, name: str) -> bool:
        """By its name alone (both lower-case), is an attribute of this connector masked?"""
        return name in PASSWORD_ATTRIBUTES or name in self.sensitive_anywhere or (connector, name) in self.sensitive

    def scrub(self, value: Any) -> Any:
        """A value with every secret it contains masked (strings inside lists too)."""
        if not self.secrets:
            return value
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, SECRET_MASK)
            return value
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value

    def change(self, change: PlannedChange) -> PlannedChange:
        """A redacted copy of a change, ready to render or store (the change itself when nothing is masked)."""
        if isinstance(change, LazyChange):
            if not self.secrets and not change.sensitive and not self._may_mask(change.connector, change.names):
                return change  # nothing it holds can be masked: its deltas stay unbuilt
            fields = {f.name: getattr(change, f.name) for f in dataclasses.fields(change) if f.name != "attributes"}
            fields.update(dn=self.scrub(change.dn), new_dn=self.scrub(change.new_dn))

            def build() -> list[AttributeDelta]:  # masked when first read, as the change's own are built
                masked = [self._delta(change.connector, d) for d in change.attributes]
                change.forget()  # kept masked only: the change builds its own again when read
                return masked

            return LazyChange.of(build, change.names, fields, change.sensitive)
        deltas = [self._delta(change.connector, d) for d in change.attributes]
        dn, new_dn = self.scrub(change.dn), self.scrub(change.new_dn)
        if (
            dn is change.dn
            and new_dn is change.new_dn
            and all(a is b for a, b in zip(deltas, change.attributes))
        ):
            return change  # nothing to mask: share it (plans of 100,000 objects stay cheap)
        return dataclasses.replace(change, dn=dn, new_dn=new_dn, attributes=deltas)

    def _may_mask(self, connector: str, names: tuple[str, ...]) -> bool:
        """Whether some attribute of these names, in this connector, is masked."""
        conn = connector.lower()
        return any(self._sensitive_name(conn, name.lower()) for name in names)

    def changes(self, changes: Iterable[PlannedChange]) -> list[PlannedChange]:
        return [self.change(c) for c in changes]

    def _delta(self, connector: str, delta: AttributeDelta) -> AttributeDelta:
        if self.is_sensitive(connector, delta):
            return dataclasses.replace(
                delta,
                sensitive=True,
                before=mask(delta.before),
                after=mask(delta.after),
                added=None if delta.added is None else [REDACTED] * len(delta.added),
                removed=None if delta.removed is None else [REDACTED] * len(delta.removed),
            )
        if not self.secrets:
            return delta
        scrubbed = {
            "before": self.scrub(delta.before),
            "after": self.scrub(delta.after),
            "added": None if delta.added is None else self.scrub(list(delta.added)),
            "removed": None if delta.removed is None else self.scrub(list(delta.removed)),
        }
        if all(scrubbed[k] == getattr(delta, k) for k in scrubbed):
            return delta
        return dataclasses.replace(delta, **scrubbed)


def mask(value: Any) -> Any:
    """A sensitive value as shown: REDACTED, but absent stays absent."""
    # keep "absent" visible: a reviewer must still see that a sensitive value appears or goes
    if value is None or value == [] or value == "":
        return value
    return REDACTED


def _names_read(source: str | None, expression: str | None) -> list[str]:
    """The attributes a flow reads: its source, or the ``[name]`` references of its expression."""
    if source:
        return [source]
    return re.findall(r"\[([^\]]+)\]", expression or "")


def _reads_sensitive(source: str | None, expression: str | None, sensitive: set[str]) -> bool:
    return bool(sensitive) and any(name.lower() in sensitive for name in _names_read(source, expression))


def _revealable(raw: Any) -> list[str]:
    """The values of every secret the playbook names that can be read here (unreadable ones are skipped)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Secret):
            try:
                value = node.reveal()
            except ReconcilerError:
                return
            if len(value) >= _MIN_SECRET_LENGTH:
                found.append(value)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(raw)
    # longest first so a secret containing another is masked whole
    return sorted(set(found), key=len, reverse=True)
