"""The state's schema as named migrations; each runs in its own transaction and is recorded once.

Attributes are one compact JSON column per object; the indexes are the ones
the pipeline's lookups need (anchor, DN, reference key, pending import/export,
the metaverse link), so that a delta costs what changed, not the state's size.
"""

from __future__ import annotations

SCHEMA_VERSION = 4

# (name, statements); append only: a released migration is never edited.
MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_initial",
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
            """CREATE TABLE connector_state (
                name TEXT PRIMARY KEY,
                watermark TEXT,
                full_scan_next_run INTEGER NOT NULL DEFAULT 0,
                imported INTEGER NOT NULL DEFAULT 0,
                schema_json TEXT,
                schema_at TEXT
            )""",
            """CREATE TABLE cs (
                id INTEGER PRIMARY KEY,
                connector TEXT NOT NULL,
                guid TEXT NOT NULL,
                object_type TEXT NOT NULL,
                dn TEXT NOT NULL,
                dn_norm TEXT NOT NULL,
                anchor TEXT,
                key_norm TEXT,
                kind INTEGER NOT NULL DEFAULT 0,
                attrs TEXT NOT NULL DEFAULT '{}',
                hash TEXT,
                pending_import TEXT,
                pi_attrs TEXT,
                pending_export TEXT,
                export_memory TEXT,
                export_state TEXT,
                mv_id INTEGER,
                link_kind TEXT,
                link_rule TEXT,
                import_error TEXT,
                export_error TEXT,
                sync_error TEXT,
                resync INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX cs_anchor ON cs (connector, anchor) WHERE anchor IS NOT NULL",
            "CREATE INDEX cs_dn ON cs (connector, dn_norm)",
            "CREATE INDEX cs_key ON cs (connector, key_norm) WHERE key_norm IS NOT NULL",
            "CREATE INDEX cs_guid ON cs (guid)",
            "CREATE INDEX cs_pending_import ON cs (connector) WHERE pending_import IS NOT NULL OR resync = 1",
            "CREATE INDEX cs_pending_export ON cs (connector) WHERE pending_export IS NOT NULL",
            "CREATE INDEX cs_mv ON cs (mv_id) WHERE mv_id IS NOT NULL",
            "CREATE TABLE cs_ref (src INTEGER NOT NULL, attr TEXT NOT NULL, dst INTEGER NOT NULL)",
            "CREATE INDEX cs_ref_src ON cs_ref (src)",
            "CREATE INDEX cs_ref_dst ON cs_ref (dst)",
            """CREATE TABLE mv (
                id INTEGER PRIMARY KEY,
                guid TEXT NOT NULL,
                object_type TEXT NOT NULL,
                attrs TEXT NOT NULL DEFAULT '{}',
                contrib TEXT NOT NULL DEFAULT '{}',
                dirty INTEGER NOT NULL DEFAULT 0,
                retry TEXT
            )""",
            "CREATE INDEX mv_guid ON mv (guid)",
            "CREATE INDEX mv_dirty ON mv (dirty) WHERE dirty > 0",
            # join lookups: only the MV attributes join rules use; value is casefolded
            "CREATE TABLE mv_index (mv_type TEXT NOT NULL, attr TEXT NOT NULL, value TEXT NOT NULL, mv_id INTEGER NOT NULL)",
            "CREATE INDEX mv_index_lookup ON mv_index (mv_type, attr, value)",
            "CREATE INDEX mv_index_mv ON mv_index (mv_id)",
            """CREATE TABLE history (
                id INTEGER PRIMARY KEY,
                start TEXT NOT NULL,
                end TEXT,
                connector TEXT,
                profile TEXT NOT NULL,
                object_type TEXT,
                total INTEGER NOT NULL DEFAULT 0,
                added INTEGER NOT NULL DEFAULT 0,
                changed INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0,
                filtered INTEGER NOT NULL DEFAULT 0,
                errors INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                details TEXT
            )""",
            "CREATE INDEX history_connector ON history (connector, id)",
        ],
    ),
    (
        # a connector's objects in id order (batches of a full sync and of a full import's vanish
        # check): without it SQLite walked the DN index and sorted, once per batch
        "0002_connector_id_order",
        ["CREATE INDEX cs_connector ON cs (connector)"],
    ),
    (
        # no query looks objects up by GUID, and random GUIDs made every batch rewrite pages all over
        # these two indexes: at a million objects, most of the run's disk writes
        "0003_drop_guid_indexes",
        ["DROP INDEX IF EXISTS cs_guid", "DROP INDEX IF EXISTS mv_guid"],
    ),
    (
        # reference lookups (value -> id, a real object before a placeholder) read the kind from the index
        # itself: without it each of a million people's managers and ten thousand groups' members cost a
        # random read of its table row, a seventh of a million-person import
        "0004_lookups_cover_kind",
        [
            "DROP INDEX cs_anchor",
            "CREATE INDEX cs_anchor ON cs (connector, anchor, kind) WHERE anchor IS NOT NULL",
            "DROP INDEX cs_dn",
            "CREATE INDEX cs_dn ON cs (connector, dn_norm, kind)",
            "DROP INDEX cs_key",
            "CREATE INDEX cs_key ON cs (connector, key_norm, kind) WHERE key_norm IS NOT NULL",
        ],
    ),
]
