"""Recursive-descent parser: tokens → syntax tree, with compile-time checks.

Grammar (all binary operators share one priority and associate left to right,
as Microsoft documents: ``10-2*3`` is ``(10-2)*3`` = 24)::

    expression := unary (OPERATOR unary)*
    unary      := "-" unary | primary
    primary    := STRING | NUMBER | [attribute] | %parameter% | $variable
                | NAME "(" [expression ("," expression)*] ")"
                | NAME                      (True, False, NULL, CRLF, AuthoritativeNull, …)
                | "(" expression ")"

Unknown functions get a "did you mean" suggestion; wrong argument counts are
reported here, at compile time, so playbook validation catches them.
"""

from __future__ import annotations

import difflib

from reconciler.errors import ExpressionSyntaxError
from reconciler.expressions import functions
from reconciler.expressions.lexer import (
    ATTR,
    COMMA,
    EOF,
    IDENT,
    LPAREN,
    NUMBER,
    OP,
    PARAM,
    RPAREN,
    STRING,
    VAR,
    Token,
    tokenize,
)
from reconciler.expressions.nodes import Attribute, BinaryOp, Call, Literal, Negate, Node, Parameter, Variable
from reconciler.expressions.values import AUTHORITATIVE_NULL, IGNORE_THIS_FLOW

#: Named constants (case-insensitive).
CONSTANTS: dict[str, object] = {
    "true": True,
    "false": False,
    "null": None,
    "nothing": None,
    "crlf": "\r\n",
    "authoritativenull": AUTHORITATIVE_NULL,
    "ignorethisflow": IGNORE_THIS_FLOW,
}

#: Enumeration names usable bare as arguments (canonical spelling).
ENUMS: dict[str, str] = {
    name.lower(): name
    for name in (
        "UTF8",
        "Unicode",
        "ASCII",
        "vbTextCompare",
        "vbBinaryCompare",
        "CaseInsensitive",
        "CaseSensitive",
        "SimpleName",
        "EmailName",
        "UpnName",
        "DnsName",
        "DnsFromAlternativeName",
        "UrlName",
    )
}

_CONSTANT_SPELLING = ["True", "False", "NULL", "Nothing", "CRLF", "AuthoritativeNull", "IgnoreThisFlow"]


class Parser:
    """Parses one expression; use ``parse(text)``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    # -- helpers -------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def error(self, message: str, column: int, hint: str | None = None) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"syntax error at column {column}: {message}", column=column, expression=self.text, hint=hint
        )

    def expect(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.error(f"expected {what}, found {tok.describe()}", tok.column)
        return self.advance()

    # -- grammar -------------------------------------------------------------
    def parse(self) -> Node:
        if self.peek().kind == EOF:
            raise self.error("the expression is empty", 1)
        node = self.expression()
        tok = self.peek()
        if tok.kind != EOF:
            hint = None
            if tok.kind in (STRING, NUMBER, ATTR, PARAM, IDENT, VAR, LPAREN):
                hint = "is an operator such as & missing?"
            elif tok.kind == RPAREN:
                hint = "unbalanced parentheses"
            raise self.error(f"unexpected {tok.describe()}", tok.column, hint)
        return node

    def expression(self) -> Node:
        node = self.unary()
        while self.peek().kind == OP:
            op = self.advance()
            right = self.unary()
            node = BinaryOp(op.column, op.value, node, right)
        return node

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == OP and tok.value == "-":
            self.advance()
            operand = self.unary()
            if isinstance(operand, Literal) and type(operand.value) is int:
                return Literal(tok.column, -operand.value)
            return Negate(tok.column, operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.advance()
        kind = tok.kind
        if kind in (STRING, NUMBER):
            return Literal(tok.column, tok.value)
        if kind == ATTR:
            return Attribute(tok.column, tok.value)
        if kind == PARAM:
            return Parameter(tok.column, tok.value)
        if kind == VAR:
            return Variable(tok.column, tok.value)
        if kind == LPAREN:
            node = self.expression()
            closing = self.peek()
            if closing.kind != RPAREN:
                raise self.error(
                    f"expected ')' to close the '(' at column {tok.column}, found {closing.describe()}",
                    closing.column,
                )
            self.advance()
            return node
        if kind == IDENT:
            if self.peek().kind == LPAREN:
                return self.call(tok)
            return self.constant(tok)
        if kind == EOF:
            raise self.error("the expression ends where a value is expected", tok.column)
        raise self.error(f"expected a value, found {tok.describe()}", tok.column)

    def constant(self, tok: Token) -> Node:
        key = tok.value.lower()
        if key in CONSTANTS:
            return Literal(tok.column, CONSTANTS[key])
        if key in ENUMS:
            return Literal(tok.column, ENUMS[key], enum=True)
        spec = functions.lookup(tok.value)
        if spec is not None:
            raise self.error(
                f"{spec.name} is a function and needs parentheses", tok.column, f"{spec.name}(…)"
            )
        names = _CONSTANT_SPELLING + list(ENUMS.values())
        close = difflib.get_close_matches(key, [n.lower() for n in names], n=1, cutoff=0.6)
        hint = None
        if close:
            hint = "did you mean " + next(n for n in names if n.lower() == close[0]) + "?"
        else:
            hint = f'attributes are written [{tok.value}], strings "{tok.value}"'
        raise self.error(f"unknown name {tok.value!r}", tok.column, hint)

    def call(self, name_tok: Token) -> Node:
        name = name_tok.value
        spec = functions.lookup(name)
        if spec is None:
            guess = functions.suggest(name)
            hint = f"did you mean {guess}?" if guess else None
            raise self.error(f"unknown function {name!r}", name_tok.column, hint)
        self.expect(LPAREN, "'('")
        args: list[Node] = []
        if self.peek().kind == RPAREN:
            self.advance()
        else:
            while True:
                args.append(self.expression())
                tok = self.advance()
                if tok.kind == RPAREN:
                    break
                if tok.kind != COMMA:
                    if tok.kind == EOF:
                        raise self.error(
                            f"{spec.name}( at column {name_tok.column} is not closed", tok.column, "add ')'"
                        )
                    raise self.error(
                        f"expected ',' or ')' in {spec.name}(…), found {tok.describe()}", tok.column
                    )
        self.check_arity(spec, args, name_tok.column)
        return Call(name_tok.column, spec.name, tuple(args))

    def check_arity(self, spec: functions.FunctionSpec, args: list[Node], column: int) -> None:
        n = len(args)
        ok = n >= spec.min_args and (spec.max_args is None or n <= spec.max_args)
        if spec.name == "Switch" and ok and n % 2:
            raise self.error(
                f"Switch takes pairs of condition and value, got {n} arguments",
                column,
                "add the missing value",
            )
        if not ok:
            raise self.error(
                f"{spec.name} takes {spec.arity_text()} argument{'s' if spec.arity_text() != '1' else ''}, got {n}",
                column,
                spec.usage(),
            )
        for index, allowed in spec.enums.items():
            if index < n:
                arg = args[index]
                if isinstance(arg, Literal) and isinstance(arg.value, str):
                    canon = {a.lower(): a for a in allowed}
                    if arg.value.lower() not in canon:
                        raise self.error(
                            f"{spec.name}: argument {index + 1} must be one of {', '.join(allowed)}, "
                            f"got {arg.value!r}",
                            arg.column,
                        )


def parse(text: str) -> Node:
    """The syntax tree of ``text``; raises ``ExpressionSyntaxError`` pointing at a column."""
    return Parser(text).parse()
