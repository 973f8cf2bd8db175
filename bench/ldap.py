"""The ldap connector against raw ldap3, on a throwaway slapd: import and export rates.

    python bench/ldap.py [N] [--rounds R]

Starts slapd on 127.0.0.1 (the configuration of the tests: mdb, syncprov, accesslog, dbnosync), then,
on N people (default 10,000), R rounds (default 2) of, each in a fresh OU:
- export: N adds by raw ldap3 (one SYNC connection, ``conn.add`` in a loop) against the connector's
  ``export`` of N adds, in batches of 1,000 as the engine hands them (entryUUID read back);
- import: a raw ldap3 paged search of the N entries (the same attributes, every response consumed)
  against the connector's full import of them (every ``ImportedObject`` consumed);
and, for information, a delta import after 1 % of the entries changed.
Rates are entries per wall-clock second (the server works in another process); the best round counts.
DESIGN.md's targets: import at least half the raw search rate, export at least 80 % of raw adds.
Writes bench/results/ldap.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from connectors.ldap.slapd import ADMIN, BASE, PASSWORD, PASSWORD_ENV, Slapd, ldap_config  # noqa: E402

from reconciler.connectors.base import ExportChange  # noqa: E402
from reconciler.connectors.registry import open_connector  # noqa: E402

ATTRIBUTES = ["uid", "cn", "sn", "givenName", "mail", "employeeNumber", "manager"]
IMPORT_TARGET = 0.5
EXPORT_TARGET = 0.8
BATCH = 1000


def person(i: int, ou: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"uid": f"u{i}", "cn": f"Given{i} Surname{i}", "sn": f"Surname{i}",
                             "givenName": f"Given{i}", "mail": f"given{i}.surname{i}@example.org",
                             "employeeNumber": str(i)}  # fmt: skip
    if i % 10:
        attrs["manager"] = f"uid=u{i - i % 10},{ou}"
    return attrs


def raw_adds(slapd: Slapd, ou: str, n: int) -> float:
    import ldap3

    conn = ldap3.Connection(ldap3.Server(slapd.uri, get_info=ldap3.NONE), ADMIN, PASSWORD, auto_bind=True)
    people = [(f"uid=u{i},{ou}", person(i, ou)) for i in range(n)]
    start = time.perf_counter()
    for dn, attrs in people:
        conn.add(dn, ["inetOrgPerson"], attrs)
        if conn.result["result"] != 0:
            raise RuntimeError(conn.result)
    elapsed = time.perf_counter() - start
    conn.unbind()
    return n / elapsed


def connector_adds(slapd: Slapd, ou: str, n: int) -> float:
    conn = open_connector(ldap_config(slapd, [ou], object_types={"inetOrgPerson": ATTRIBUTES}))
    changes = [ExportChange("add", f"uid=u{i},{ou}", "inetOrgPerson", attributes=person(i, ou), key=i) for i in range(n)]
    conn.test()  # connect and bind outside the timing, as raw_adds does
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        results = conn.export(changes[i : i + BATCH])
        bad = [r for r in results if not r.ok or not r.anchor]
        if bad:
            raise RuntimeError(bad[0])
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def raw_search(slapd: Slapd, ou: str) -> tuple[float, int]:
    import ldap3

    conn = ldap3.Connection(ldap3.Server(slapd.uri, get_info=ldap3.NONE), ADMIN, PASSWORD, auto_bind=True)
    start = time.perf_counter()
    count, cookie = 0, None
    while True:
        conn.search(ou, "(objectClass=inetOrgPerson)", ldap3.SUBTREE, attributes=[*ATTRIBUTES, "entryUUID"],
                    paged_size=500, paged_cookie=cookie)  # fmt: skip
        for e in conn.response:
            if e["type"] == "searchResEntry":
                count += 1
        cookie = conn.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
        if not cookie:
            break
    elapsed = time.perf_counter() - start
    conn.unbind()
    return count / elapsed, count


def connector_import(slapd: Slapd, ou: str) -> tuple[float, int, str | None]:
    conn = open_connector(ldap_config(slapd, [ou], object_types={"inetOrgPerson": ATTRIBUTES}))
    conn.test()
    start = time.perf_counter()
    result = conn.full_import()
    count = sum(1 for o in result.objects if o.error is None)
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed, count, result.watermark


def delta_after_changes(slapd: Slapd, ou: str, watermark: str | None, n: int) -> tuple[float, int]:
    ldap = slapd.connection()
    changed = max(1, n // 100)
    for i in range(0, n, n // changed):
        ldap.modify(f"uid=u{i},{ou}", {"title": [("MODIFY_REPLACE", ["changed"])]})
    conn = open_connector(ldap_config(slapd, [ou], object_types={"inetOrgPerson": ATTRIBUTES}))
    conn.test()
    start = time.perf_counter()
    result = conn.delta_import(watermark)
    count = sum(1 for _ in result.objects)
    elapsed = time.perf_counter() - start
    conn.close()
    assert not result.full, getattr(conn, "last_note", None)
    return elapsed, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    n = args.n
    os.environ[PASSWORD_ENV] = PASSWORD
    slapd = Slapd(Path(tempfile.mkdtemp(prefix="reconciler-bench-ldap-")))
    slapd.start()
    figures: dict[str, list[float]] = {"raw_adds": [], "connector_adds": [], "raw_search": [], "connector_import": []}
    delta: tuple[float, int] = (0.0, 0)
    try:
        slapd.connection().add(BASE, ["dcObject", "organization"], {"dc": "example", "o": "Example"})
        for r in range(args.rounds):
            raw_ou, conn_ou = slapd.add_ou(f"raw{r}"), slapd.add_ou(f"conn{r}")
            # alternate which goes first, so neither always meets the fuller database
            if r % 2:
                figures["connector_adds"].append(connector_adds(slapd, conn_ou, n))
                figures["raw_adds"].append(raw_adds(slapd, raw_ou, n))
            else:
                figures["raw_adds"].append(raw_adds(slapd, raw_ou, n))
                figures["connector_adds"].append(connector_adds(slapd, conn_ou, n))
            for _ in range(2):
                figures["raw_search"].append(raw_search(slapd, conn_ou)[0])
                rate, count, watermark = connector_import(slapd, conn_ou)
                assert count == n, count
                figures["connector_import"].append(rate)
            if r == 0:
                delta = delta_after_changes(slapd, conn_ou, watermark, n)
    finally:
        slapd.stop()
        shutil.rmtree(slapd.folder, ignore_errors=True)
    best = {k: max(v) for k, v in figures.items()}
    import_ratio = best["connector_import"] / best["raw_search"]
    export_ratio = best["connector_adds"] / best["raw_adds"]
    result = {
        "benchmark": "ldap connector vs raw ldap3 on slapd (loopback)",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "entries": n,
        "rounds": args.rounds,
        "unit": "entries per wall-clock second, best round",
        "raw_ldap3_paged_search": round(best["raw_search"]),
        "connector_full_import": round(best["connector_import"]),
        "import_ratio": round(import_ratio, 3),
        "import_target_ratio": IMPORT_TARGET,
        "raw_ldap3_adds": round(best["raw_adds"]),
        "connector_export_adds": round(best["connector_adds"]),
        "export_ratio": round(export_ratio, 3),
        "export_target_ratio": EXPORT_TARGET,
        "delta_import_after_1_percent_changed": {"seconds": round(delta[0], 3), "objects": delta[1]},
        "meets_targets": import_ratio >= IMPORT_TARGET and export_ratio >= EXPORT_TARGET,
        "all_rounds": {k: [round(x) for x in v] for k, v in figures.items()},
    }
    out = Path(__file__).resolve().parent / "results" / "ldap.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(f"import: connector {best['connector_import']:,.0f}/s vs raw paged search {best['raw_search']:,.0f}/s "
          f"= {import_ratio:.0%} (target {IMPORT_TARGET:.0%})")  # fmt: skip
    print(f"export: connector {best['connector_adds']:,.0f}/s vs raw adds {best['raw_adds']:,.0f}/s "
          f"= {export_ratio:.0%} (target {EXPORT_TARGET:.0%})")  # fmt: skip
    print(f"delta import after {delta[1]} changes in {n:,}: {delta[0]:.3f} s")
    return 0 if result["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
