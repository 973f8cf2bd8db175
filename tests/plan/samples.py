"""Hand-made planned changes: what the engine would produce, for testing the plan surface alone."""

from __future__ import annotations

from reconciler.plan.model import AttributeDelta, PlannedChange


def update(dn: str, *deltas: AttributeDelta, connector: str = "corp", cause: str = "source") -> PlannedChange:
    return PlannedChange(
        connector=connector,
        op="update",
        object_type="person",
        dn=dn,
        anchor=dn.split(",")[0].split("=")[1],
        attributes=list(deltas),
        rule="Out to corp",
        cause=cause,  # type: ignore[arg-type]
    )


def mixed() -> list[PlannedChange]:
    """One of each kind, listed in an order that is not the display order."""
    return [
        PlannedChange(
            connector="corp",
            op="add",
            object_type="person",
            dn="uid=dave,ou=people",
            attributes=[
                AttributeDelta("cn", after="Dave Smith", rule="Out to corp", flow="cn <- displayName"),
                AttributeDelta("nationalId", after="123-45-6789", sensitive=True),
            ],
            rule="Out to corp",
            cause="provision",
        ),
        update(
            "uid=carol,ou=people",
            AttributeDelta(
                "department", before="Sales", after="Marketing", rule="Out to corp", flow="department"
            ),
            AttributeDelta(
                "proxyAddresses",
                before=["smtp:c@old.example", "smtp:carol@example.org"],
                after=["smtp:carol@example.org", "smtp:c@new.example"],
                multivalued=True,
            ),
        ),
        PlannedChange(
            connector="corp",
            op="rename",
            object_type="person",
            dn="uid=al,ou=people",
            new_dn="uid=alice,ou=people",
            anchor="a-1",
            rule="Out to corp",
        ),
        PlannedChange(
            connector="corp",
            op="delete",
            object_type="person",
            dn="uid=bob,ou=people",
            anchor="b-1",
            rule="Out to corp",
            cause="deprovision",
        ),
        PlannedChange(
            connector="hrcopy",
            op="update",
            object_type="person",
            dn="employeeId=7",
            anchor="7",
            attributes=[AttributeDelta("title", before="Eng", after="Lead")],
        ),
    ]


def same_edit(n: int, connector: str = "corp") -> list[PlannedChange]:
    return [
        update(
            f"uid=u{i:04d},ou=people",
            AttributeDelta("department", before="Sales", after="Marketing"),
            connector=connector,
        )
        for i in range(n)
    ]
