"""The syntax tree the parser builds and the compiler turns into closures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node; ``column`` is 1-based."""

    column: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: string, number, boolean, NULL, CRLF, a sentinel or an enumeration name."""

    value: Any
    enum: bool = False  # a bare identifier naming an enumeration constant (UTF8, vbTextCompare, …)


@dataclass(frozen=True, slots=True)
class Attribute(Node):
    """``[name]``."""

    name: str


@dataclass(frozen=True, slots=True)
class Parameter(Node):
    """``%name%``."""

    name: str


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """``$name`` (bound by Where, Select and With)."""

    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    """``Function(arg, …)``; ``name`` is the canonical spelling of the function."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class BinaryOp(Node):
    """``left op right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """Unary minus."""

    operand: Node
