"""Find a connector class by its playbook ``type`` and open connectors.

Built-in connectors are found the way a third-party one is: through the ``reconciler.connectors``
entry-point group (``pyproject.toml`` declares csv, ldif and json). A connector's module is imported
only when a playbook uses its type, so a heavy SDK (Graph) costs nothing to everyone else.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from reconciler.connectors.base import Connector
from reconciler.errors import Bug, UserError
from reconciler.playbook.model import ConnectorConfig

GROUP = "reconciler.connectors"

#: Types the product defines but that this build does not ship yet.
PLANNED: dict[str, str] = {}
#: Types whose connector needs an optional extra, and the command that installs it.
EXTRAS: dict[str, str] = {"graph": "pip install 'reconciler[graph]'"}


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def known_types() -> list[str]:
    """Every connector type a playbook may name: installed ones and those announced."""
    return sorted(set(_entry_points()) | set(PLANNED))


def connector_class(type_name: str) -> type[Connector]:
    """The connector class registered for ``type_name``; a ``UserError`` says what to do otherwise."""
    ep = _entry_points().get(type_name)
    if ep is None:
        if type_name in PLANNED:
            raise UserError(PLANNED[type_name], hint="use a csv, ldif or json connector meanwhile")
        raise UserError(
            f"unknown connector type {type_name!r}",
            hint=f"known types: {', '.join(known_types())}",
        )
    try:
        cls = ep.load()
    except ImportError as exc:
        extra = EXTRAS.get(type_name)
        if extra is not None:
            raise UserError(
                f"the {type_name} connector needs packages that are not installed ({exc.name or exc})",
                hint=f"run: {extra}",
            ) from exc
        raise UserError(
            f"the {type_name} connector cannot be loaded: {exc}",
            hint=f"reinstall the package that provides it ({ep.value})",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise Bug(f"entry point {GROUP}:{type_name} ({ep.value}) is not a Connector class")
    return cls


def open_connector(config: ConnectorConfig) -> Connector:
    """A connector for ``config``; nothing is read or connected until one of its methods runs."""
    return connector_class(config.type)(config)
