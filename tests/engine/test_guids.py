"""Object GUIDs: random version-4 UUIDs, never handed out twice, not even across a fork."""

from __future__ import annotations

import os
import uuid

from reconciler.engine.objects import CSObject, MVObject, new_guid


def test_guids_are_distinct_version_4_uuids() -> None:
    made = [new_guid() for _ in range(10_000)] + [CSObject("c", "t", "x").guid, MVObject("person").guid]
    assert len(set(made)) == len(made)
    for g in made:
        u = uuid.UUID(g)
        assert (u.version, u.variant, str(u)) == (4, uuid.RFC_4122, g)


def test_a_forked_child_makes_guids_its_parent_does_not() -> None:
    new_guid()  # the parent holds made GUIDs a child would inherit
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next GUIDs, to the parent
        os.close(read)
        os.write(write, "\n".join(new_guid() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child = set(f.read().split())
    os.waitpid(pid, 0)
    parent = {new_guid() for _ in range(100)}
    assert len(child) == 100 and not child & parent
