"""Generate the benchmark's connected systems: an HR file of people and a file of groups.

    python bench/generate.py N OUTDIR [--seed S]

writes ``OUTDIR/hr.csv`` (N people whose managers form one tree: the first person is the root,
every other person reports to someone, at most 8 direct reports each, so the depth grows with
log8 N; start dates fall on every ninth day from 2000) and ``OUTDIR/groups.csv`` (N/100 groups whose ``member`` cell names people by employeeId,
each person in about two groups). Row order is by employeeId while the tree is shuffled, so
a manager is as often after their reports in the file as before them (forward references).

The output is a pure function of N and the seed (byte-identical runs), and fast: columns are drawn
whole with ``random.choices`` and rows joined as text, so a million people take a few seconds.
No value needs CSV quoting (no comma, quote or newline), which the writer relies on.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

GIVEN = [
    "Ann", "Bob", "Cid", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jill", "Kai", "Lena", "Milo",
    "Nia", "Otto", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Ugo", "Vera", "Wim", "Xena", "Yves", "Zoé",
    "Åsa", "Björn", "Chloé", "Dörte", "Émile", "François", "Jürgen", "Łukasz", "Noël", "Søren",
]  # fmt: skip
SURNAMES = [
    "Lee", "Ray", "Poe", "Smith", "Jones", "Garcia", "Müller", "Rossi", "Dubois", "Novak", "Silva",
    "Kim", "Nguyen", "Sato", "Cohen", "O'Brien", "van Dijk", "Østergaard", "Kowalski", "Ibrahim",
    "Andersson", "Papadopoulos", "Fernández", "Horvath", "Meier", "Costa", "Dupont", "Yilmaz",
]  # fmt: skip
DEPARTMENTS = ["Sales", "Finance", "Engineering", "Support", "Marketing", "Legal", "HR", "Operations"]
TITLES = ["Engineer", "Analyst", "Manager", "Consultant", "Specialist", "Associate", "Director", "Clerk"]
LOCATIONS = ["Amsterdam", "Berlin", "Lisbon", "London", "Madrid", "Oslo", "Paris", "Warsaw"]
STATUSES = ["active", "suspended", "terminated"]
STATUS_WEIGHTS = [96, 2, 2]
FANOUT = 8  # direct reports per manager at most
GROUPS_PER_PERSON = 2

PEOPLE_HEADER = "employeeId,givenName,sn,department,title,manager,status,startDate,location"
GROUPS_HEADER = "groupId,displayName,description,member"


def employee_ids(n: int) -> list[str]:
    return [f"E{i:07d}" for i in range(n)]


def tree_order(n: int, rng: random.Random) -> list[int]:
    """A pseudo-random permutation of range(n): k → (a·k + b) mod n with a prime to n (cheaper than a shuffle)."""
    a = rng.randrange(n // 3 + 1, 2 * n // 3 + 2) if n > 2 else 1
    while math.gcd(a, n) != 1:
        a += 1
    b = rng.randrange(n)
    return [(a * k + b) % n for k in range(n)]


def people_rows(ids: list[str], rng: random.Random) -> list[str]:
    """The HR rows, by employeeId; the tree's shape is spread over the ids."""
    n = len(ids)
    order = tree_order(n, rng)  # order[k]: the id at position k of the tree (k=0 is the root)
    manager_of = [""] * n
    for k in range(1, n):
        manager_of[order[k]] = ids[order[(k - 1) // FANOUT]]
    # whole columns at once; pairs of independent columns drawn as one to halve the draws
    names = rng.choices([f"{g},{s}" for g in GIVEN for s in SURNAMES], k=n)
    jobs = rng.choices([f"{d},{t}" for d in DEPARTMENTS for t in TITLES], k=n)
    status = rng.choices(STATUSES, weights=STATUS_WEIGHTS, k=n)
    start = date(2000, 1, 1)
    days = [(start + timedelta(days=d)).isoformat() for d in range(9000)]
    places = rng.choices([f"{d},{loc}" for d in days[::9] for loc in LOCATIONS], k=n)
    return [f"{ids[i]},{names[i]},{jobs[i]},{manager_of[i]},{status[i]},{places[i]}" for i in range(n)]


def group_rows(ids: list[str], rng: random.Random) -> list[str]:
    """N/100 groups (at least one); every person is drawn into about two of them."""
    n = len(ids)
    count = max(1, n // 100)
    members: list[list[str]] = [[] for _ in range(count)]
    picks = rng.choices(range(count), k=n * GROUPS_PER_PERSON)
    for g, eid in zip(picks, [eid for eid in ids for _ in range(GROUPS_PER_PERSON)]):
        members[g].append(eid)
    dept = rng.choices(DEPARTMENTS, k=count)
    # the same person drawn twice into one group counts once
    return [
        f"G{g:05d},{dept[g]} team {g},Members of {dept[g]} team {g},{';'.join(dict.fromkeys(members[g]))}"
        for g in range(count)
    ]


def write_lines(path: Path, header: str, rows: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(header)
        f.write("\n")
        f.write("\n".join(rows))
        f.write("\n")


def generate(n: int, outdir: Path, seed: int = 42) -> dict[str, Path]:
    """Write hr.csv and groups.csv for ``n`` people into ``outdir``; return their paths."""
    if n < 1:
        raise ValueError("N must be at least 1")
    outdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = {"hr": outdir / "hr.csv", "groups": outdir / "groups.csv"}
    ids = employee_ids(n)
    write_lines(paths["hr"], PEOPLE_HEADER, people_rows(ids, rng))
    write_lines(paths["groups"], GROUPS_HEADER, group_rows(ids, rng))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, metavar="N", help="number of people")
    parser.add_argument("outdir", type=Path, metavar="OUTDIR", help="folder for hr.csv and groups.csv")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    t0 = time.perf_counter()
    paths = generate(args.n, args.outdir, args.seed)
    elapsed = time.perf_counter() - t0
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths.values())
    print(f"{args.n} people, {max(1, args.n // 100)} groups in {elapsed:.2f} s: {sizes}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
