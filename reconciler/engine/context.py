"""What every stage of a run shares: the playbook, the store, open connectors, compiled rules,
reference metadata, batch size, progress and the crash hook."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reconciler.playbook  # noqa: F401 - first: playbook and connectors.base import each other
from reconciler.connectors.base import Capabilities, Connector
from reconciler.engine.rules import CompiledRules, compile_rules
from reconciler.engine.runs import CrashHook, batch_size
from reconciler.errors import UserError
from reconciler.playbook.model import ConnectorConfig, Playbook
from reconciler.store.base import StateStore

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class RefTarget:
    """How a reference attribute's values name their targets: by DN, by a key attribute, or by anchor."""

    connector: str
    by: str  # "dn" | "key" | "anchor"
    key: str | None = None


def open_connector(config: ConnectorConfig) -> Connector:
    """The connector for a config, through the registry (entry points) the connectors package provides."""
    from reconciler.connectors.registry import open_connector as _open

    return _open(config)


class Context:
    def __init__(
        self,
        playbook: Playbook,
        store: StateStore,
        progress: Progress | None = None,
        connectors: dict[str, Connector] | None = None,
    ) -> None:
        self.playbook = playbook
        self.store = store
        self.progress = progress
        self.crash = CrashHook()
        # tests only: break one behaviour on purpose to prove the scenarios notice (tests/test_scenarios.py)
        self.mutation = os.environ.get("RECONCILER_TEST_MUTATION") or None
        self.batch = batch_size()
        self._connectors: dict[str, Connector] = dict(connectors or {})
        self._injected = set(self._connectors)
        self._rules: CompiledRules | None = None
        self._refs: dict[str, dict[str, RefTarget]] = {}
        self._keys: dict[str, str | None] | None = None
        # MV objects recomputed by inbound sync, reused by outbound sync in the same run (no reload)
        self.mv_cache: dict[int, Any] = {}
        self.flow_labels: dict[tuple[str, int], str] | None = None  # engine.planning._flow_labels

    # The cache hands MV objects from inbound to outbound sync without reading them back. A run that
    # touches more objects than this does not use it at all: it would save a small share of the reads
    # for a few hundred megabytes.
    MV_CACHE_LIMIT = 120_000
    caching = True  # set per synchronization by the engine

    def cache_mvs(self, mvs: Any) -> None:
        if self.caching and len(self.mv_cache) < self.MV_CACHE_LIMIT:
            for mv in mvs:
                self.mv_cache[mv.id] = mv

    def load_mvs(self, ids: Any) -> dict[int, Any]:
        """MV objects by id: from this run's cache, the rest from the store."""
        cache = self.mv_cache
        out = {i: cache[i] for i in ids if i in cache}
        missing = [i for i in ids if i not in out]
        if missing:
            store: Any = self.store
            out.update(store.mv_by_ids(missing))
        return out

    # ----------------------------------------------------------- connectors
    def config(self, name: str) -> ConnectorConfig:
        try:
            return self.playbook.connectors[name]
        except KeyError:
            known = ", ".join(sorted(self.playbook.connectors)) or "none"
            raise UserError(f"no connector named {name!r} in the playbook (connectors: {known})") from None

    def connector(self, name: str) -> Connector:
        conn = self._connectors.get(name)
        if conn is None:
            conn = open_connector(self.config(name))
            self._connectors[name] = conn
        return conn

    def capabilities(self, name: str) -> Capabilities:
        conn = self._connectors.get(name)
        if conn is not None:
            return conn.capabilities
        try:
            return self.connector(name).capabilities
        except UserError:
            return Capabilities()

    def close(self) -> None:
        for name, conn in list(self._connectors.items()):
            if name not in self._injected:
                conn.close()
                del self._connectors[name]

    # ----------------------------------------------------------- rules
    @property
    def rules(self) -> CompiledRules:
        if self._rules is None:
            self._rules = compile_rules(self.playbook)
        return self._rules

    # ----------------------------------------------------------- references
    def ref_attrs(self, name: str) -> dict[str, RefTarget]:
        """Reference attributes of a connector's objects and how their values name targets."""
        cached = self._refs.get(name)
        if cached is not None:
            return cached
        cfg = self.config(name)
        refs: dict[str, RefTarget] = {}
        for attr, rd in cfg.references.items():
            refs[attr] = RefTarget(rd.connector or name, "key", rd.key)
        style = self.capabilities(name).reference_style
        extra: Any = getattr(self._connectors.get(name), "reference_attributes", None)
        names: set[str] = set(extra or ())
        schema = self.store.connector_state(name).get("schema") or {}
        for attrs in schema.values():
            for attr, spec in attrs.items():
                if isinstance(spec, dict) and spec.get("reference"):
                    names.add(attr)
        # a CS attribute an inbound rule flows into an MV reference attribute holds references
        for rule in self.playbook.rules_for(name, "inbound"):
            typedef = self.playbook.metaverse.get(rule.mv_type)
            for f in rule.flows:
                adef = typedef.attributes.get(f.target) if typedef else None
                if f.source and adef is not None and adef.type == "reference":
                    names.add(f.source)
        for attr in names:
            if attr not in refs:
                refs[attr] = RefTarget(name, "anchor" if style == "id" else "dn")
        self._refs[name] = refs
        return refs

    def key_attr(self, name: str) -> str | None:
        """The attribute other objects' references use to name this connector's objects (files)."""
        if self._keys is None:
            self._keys = {}
            for cname in self.playbook.connectors:
                for target in self.ref_attrs(cname).values():
                    if target.by == "key" and target.key and target.connector not in self._keys:
                        self._keys[target.connector] = target.key
        return self._keys.get(name)

    # ----------------------------------------------------------- group membership (ISMEMBEROF)
    @property
    def uses_membership(self) -> bool:
        from reconciler.engine.sync.scoping import needs_membership

        return any(needs_membership(r.scope) for r in self.playbook.sync_rules if r.enabled)

    def reset_membership(self) -> None:
        self._members: dict[str, set[int]] = {}
        self._member_mvs: dict[str, set[int]] = {}

    def members(self, group_dn: str) -> set[int]:
        """CS ids of the members of the group(s) with this DN, in any connector (cached for a sync run)."""
        from reconciler.engine.objects import normalize_dn

        cache = getattr(self, "_members", None)
        if cache is None:
            self.reset_membership()
            cache = self._members
        key = normalize_dn(group_dn)
        found = cache.get(key)
        if found is None:
            store: Any = self.store
            groups = [o.id for n in self.playbook.connectors for o in store.cs_by_dns(n, [key]).get(key, [])]
            found = {d for rows in store.refs_of(groups).values() for _, d in rows}
            cache[key] = found
        return found

    def member_mvs(self, group_dn: str) -> set[int]:
        from reconciler.engine.objects import normalize_dn

        key = normalize_dn(group_dn)
        if getattr(self, "_member_mvs", None) is None:
            self.reset_membership()
        found = self._member_mvs.get(key)
        if found is None:
            store: Any = self.store
            found = {m for m in store.mv_ids_of_cs(self.members(group_dn)).values() if m is not None}
            self._member_mvs[key] = found
        return found

    def report(self, stage: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)
