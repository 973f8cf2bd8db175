"""Is a saved plan still the plan? apply exports only when the answer is yes.

Three causes, checked in this order, each with its own message and remedy:
the playbook changed, the state moved on (another apply or run committed), or objects the plan
concerns changed in their connected systems (their change digests differ, or changes appeared or
vanished).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import StalePlanError
from reconciler.plan.digest import change_identity
from reconciler.plan.planfile import Plan

_LISTED = 5  # DNs named in the message; the rest are counted


@dataclass
class Difference:
    """Objects whose change differs between the saved plan and now."""

    changed: list[str]  # DN: in both, different content
    new: list[str]  # DN: a change now, none in the plan
    gone: list[str]  # DN: in the plan, no change now

    @property
    def dns(self) -> list[str]:
        return self.changed + self.new + self.gone

    def __bool__(self) -> bool:
        return bool(self.changed or self.new or self.gone)


def compare_changes(saved: Plan, current: Plan) -> Difference:
    before = {change_identity(c): (c.dn, d) for c, d in zip(saved.changes, saved.digests)}
    now = {change_identity(c): (c.dn, d) for c, d in zip(current.changes, current.digests)}
    changed = [now[k][0] for k in now if k in before and before[k][1] != now[k][1]]
    new = [now[k][0] for k in now if k not in before]
    gone = [before[k][0] for k in before if k not in now]
    return Difference(changed, new, gone)


def check_playbook(saved: Plan, playbook_digest: str, rerun: str) -> None:
    if saved.playbook_digest != playbook_digest:
        raise StalePlanError(
            "stale plan: the playbook changed since the plan was made",
            causes=["playbook"],
            hint=f"review the change and run: {rerun}",
        )


def check_state(saved: Plan, state_version: int, rerun: str) -> None:
    if saved.state_version != state_version:
        raise StalePlanError(
            f"stale plan: the state moved on since the plan was made (state version {saved.state_version} "
            f"in the plan, {state_version} now: another apply or run committed)",
            causes=["state"],
            hint=f"run: {rerun}",
        )


def check_objects(saved: Plan, current: Plan, rerun: str) -> None:
    diff = compare_changes(saved, current)
    if not diff:
        return
    dns = diff.dns
    listed = ", ".join(dns[:_LISTED]) + (f" and {len(dns) - _LISTED} more" if len(dns) > _LISTED else "")
    raise StalePlanError(
        f"stale plan: objects changed in their systems since the plan was made: {listed}",
        causes=["objects"],
        hint=f"run: {rerun}",
    )
