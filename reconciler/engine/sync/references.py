"""References in synchronization: MV links in, target CS objects out.

Inbound, a reference attribute's values are CS links (``cs_ref``) resolved to
the linked MV objects (engine.sync.precedence). Outbound, an MV reference
(MV ids) becomes the CS objects linked to those MV objects in the target
connector; the export stage writes them in the target's terms (DN, key or id).
"""

from __future__ import annotations

from typing import Any


def reference_ids(mv_value: Any, ref_map: dict[int, int]) -> list[int]:
    """Target CS ids for an MV reference value (one id or a list); unresolved ones drop out."""
    if mv_value is None:
        return []
    ids = mv_value if isinstance(mv_value, list) else [mv_value]
    return sorted({ref_map[i] for i in ids if i in ref_map})
