"""The function library: a registry of ``FunctionSpec`` filled by one module per group.

Each function declares the kinds of its parameters. The kind decides two things:

* the type check made before the function runs (the language is strongly
  typed: a function given the wrong type raises ``ExpressionEvalError``);
* multi-valued handling: a *scalar* kind (``str``, ``num``, ``bool``, ``dt``,
  ``bin``, ``ref``, ``enum``, ``any``, ``cert``) given a multi-valued value makes
  the function run once per value (NULL results are dropped), while ``mv`` and
  ``var`` take the whole value.

A NULL in a scalar parameter makes the result NULL unless the function
declares ``nulls=True`` and handles NULL itself (``Left`` returns "", …).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.expressions.values import Sentinel, type_name, wrong_type

SCALAR_KINDS = frozenset({"str", "num", "bool", "dt", "bin", "ref", "enum", "any", "cert"})
WHOLE_KINDS = frozenset({"mv", "var", "lazy", "variable", "name"})


def _check_str(fn: str, i: int, v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    wrong_type(fn, i, "a string", v)


def _check_num(fn: str, i: int, v: Any) -> Any:
    if v is None or (type(v) is int) or (isinstance(v, int) and not isinstance(v, bool)):
        return v
    wrong_type(fn, i, "a number", v)


def _check_bool(fn: str, i: int, v: Any) -> Any:
    if v is None or type(v) is bool:
        return v
    wrong_type(fn, i, "a boolean", v)


def _check_dt(fn: str, i: int, v: Any) -> Any:
    if v is None or isinstance(v, datetime):
        return v
    wrong_type(fn, i, "a date/time (use CDate)", v)


def _check_bin(fn: str, i: int, v: Any) -> Any:
    if v is None or isinstance(v, bytes):
        return v
    wrong_type(fn, i, "a binary value", v)


def _check_cert(fn: str, i: int, v: Any) -> Any:
    if v is None or isinstance(v, bytes | str):
        return v
    wrong_type(fn, i, "a certificate (binary DER or Base64 text)", v)


def _check_any(fn: str, i: int, v: Any) -> Any:
    if isinstance(v, Sentinel):
        wrong_type(fn, i, "a value", v)
    return v


def _check_mv(fn: str, i: int, v: Any) -> Any:
    if v is None:
        return []
    if type(v) is list:
        return v
    if isinstance(v, Sentinel):
        wrong_type(fn, i, "a value", v)
    return [v]


CHECKERS: dict[str, Callable[[str, int, Any], Any] | None] = {
    "str": _check_str,
    "ref": _check_str,
    "enum": _check_str,
    "num": _check_num,
    "bool": _check_bool,
    "dt": _check_dt,
    "bin": _check_bin,
    "cert": _check_cert,
    "any": _check_any,
    "mv": _check_mv,
    "var": None,
    "lazy": None,
    "variable": None,
    "name": None,
}


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the library."""

    name: str
    group: str
    kinds: tuple[str, ...]
    min_args: int
    max_args: int | None  # None: variadic (the last kind repeats)
    impl: Callable[..., Any] | None
    nulls: bool = False
    special: bool = False  # compiled by the compiler itself (lazy arguments, variables, context)
    pure: bool = True
    signature: str = ""
    extension: bool = False  # not in Microsoft's reference; a documented reconciler extension
    enums: dict[int, tuple[str, ...]] = field(default_factory=dict)
    usage_text: str = ""

    def usage(self) -> str:
        """How a call is written, for error hints: ``Mid(str, num [, num])``."""
        if self.usage_text:
            return f"{self.name}({self.usage_text})"
        labels = [_LABELS.get(k, k) for k in self.kinds]
        parts = ", ".join(labels[: self.min_args])
        for label in labels[self.min_args :]:
            parts += f" [, {label}]" if parts else f"[{label}]"
        if self.max_args is None:
            parts += ", …"
        return f"{self.name}({parts})"

    def kind_at(self, index: int) -> str:
        if index < len(self.kinds):
            return self.kinds[index]
        return self.kinds[-1]

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


_LABELS = {"lazy": "value", "var": "value", "any": "value", "variable": "$variable", "name": '"attribute"'}

REGISTRY: dict[str, FunctionSpec] = {}


def function(
    name: str,
    signature: str,
    *,
    group: str,
    nulls: bool = False,
    special: bool = False,
    pure: bool = True,
    variadic: bool = False,
    extension: bool = False,
    enums: dict[int, tuple[str, ...]] | None = None,
    usage: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function. ``signature`` lists parameter kinds: ``"str, num, num?"`` (``?`` = optional)."""
    kinds: list[str] = []
    required = 0
    for part in (p.strip() for p in signature.split(",") if p.strip()):
        optional = part.endswith("?")
        kind = part.rstrip("?")
        if kind not in CHECKERS:
            raise ValueError(f"unknown parameter kind {kind!r} for {name}")
        kinds.append(kind)
        if not optional:
            required += 1

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        spec = FunctionSpec(
            name=name,
            group=group,
            kinds=tuple(kinds),
            min_args=required,
            max_args=None if variadic else len(kinds),
            impl=None if special else impl,
            nulls=nulls,
            special=special,
            pure=pure,
            signature=signature,
            extension=extension,
            enums=enums or {},
            usage_text=usage,
        )
        key = name.lower()
        if key in REGISTRY:
            raise ValueError(f"function {name} registered twice")
        REGISTRY[key] = spec
        return impl

    return register


def lookup(name: str) -> FunctionSpec | None:
    """The function named ``name`` (any case), or None."""
    _load()
    return REGISTRY.get(name.lower())


def suggest(name: str) -> str | None:
    """The closest function name to ``name``, for "did you mean"."""
    _load()
    by_lower = {spec.name.lower(): spec.name for spec in REGISTRY.values()}
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[matches[0]] if matches else None


def all_functions() -> list[FunctionSpec]:
    _load()
    return sorted(REGISTRY.values(), key=lambda s: (s.group, s.name.lower()))


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from reconciler.expressions.functions import (  # noqa: F401
        certificate,
        conversion,
        datetime_fns,
        directory,
        evaluation,
        flow,
        math_fns,
        multivalued,
        text,
    )


def describe_value(value: Any) -> str:
    return type_name(value)
