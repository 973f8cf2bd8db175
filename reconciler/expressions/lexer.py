"""Tokenizer of the declarative provisioning expression language.

Tokens carry their 1-based column so that every syntax error can point at the
offending character. String literals are double-quoted; a doubled quote
(``""``) inside one stands for a quote, and backslashes are ordinary
characters (functions such as ``Replace`` interpret ``\\n`` themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.errors import ExpressionSyntaxError

# token kinds
STRING = "string"
NUMBER = "number"
IDENT = "identifier"
ATTR = "attribute"
PARAM = "parameter"
VAR = "variable"
OP = "operator"
LPAREN = "("
RPAREN = ")"
COMMA = ","
EOF = "end of expression"

OPERATORS = ("&&", "||", "<=", ">=", "<>", "&", "+", "-", "*", "/", "=", "<", ">")
_SMART_QUOTES = "\u201c\u201d\u201e\u201f\u2033"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its value (text, number or name) and its 1-based column."""

    kind: str
    value: Any
    column: int

    def describe(self) -> str:
        if self.kind == EOF:
            return "the end of the expression"
        if self.kind == STRING:
            return f'string "{self.value}"'
        if self.kind == ATTR:
            return f"[{self.value}]"
        if self.kind == PARAM:
            return f"%{self.value}%"
        if self.kind == VAR:
            return f"${self.value}"
        return f"'{self.value}'"


def _error(message: str, text: str, index: int, hint: str | None = None) -> ExpressionSyntaxError:
    return ExpressionSyntaxError(
        f"syntax error at column {index + 1}: {message}", column=index + 1, expression=text, hint=hint
    )


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_ident_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_."


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an EOF token; raises ``ExpressionSyntaxError``."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch == '"':
            parts: list[str] = []
            i += 1
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise _error("unterminated string literal", text, start, 'close it with "')
                parts.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    parts.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            tokens.append(Token(STRING, "".join(parts), start + 1))
        elif ch in _SMART_QUOTES or ch in "\u2018\u2019":
            raise _error(f"typographic quote {ch!r}", text, start, 'string literals take straight quotes ""')
        elif ch.isdigit():
            while i < n and text[i].isdigit():
                i += 1
            if i < n and text[i] == "." and i + 1 < n and text[i + 1].isdigit():
                raise _error("numbers are 64-bit integers; a decimal fraction is not allowed", text, i)
            if i < n and _is_ident_start(text[i]):
                raise _error(f"unexpected {text[i]!r} after the number {text[start:i]}", text, i)
            value = int(text[start:i])
            if value > _INT64_MAX:
                raise _error(f"{value} does not fit a 64-bit integer", text, start)
            tokens.append(Token(NUMBER, value, start + 1))
        elif ch == "&" and i + 1 < n and text[i + 1] in "Hh" and i + 2 < n and text[i + 2] in _HEX:
            i += 2
            while i < n and text[i] in _HEX:
                i += 1
            if i < n and _is_ident_char(text[i]):
                raise _error(f"{text[i]!r} is not a hexadecimal digit", text, i)
            value = int(text[start + 2 : i], 16)
            if value > _INT64_MAX:
                raise _error(f"{text[start:i]} does not fit a 64-bit integer", text, start)
            tokens.append(Token(NUMBER, value, start + 1))
        elif ch == "[":
            j = text.find("]", i + 1)
            if j < 0:
                raise _error("unterminated attribute reference", text, start, "close it with ]")
            name = text[i + 1 : j].strip()
            if not name:
                raise _error("empty attribute name", text, start)
            tokens.append(Token(ATTR, name, start + 1))
            i = j + 1
        elif ch == "%":
            j = text.find("%", i + 1)
            if j < 0:
                raise _error("unterminated parameter reference", text, start, "close it with %")
            name = text[i + 1 : j].strip()
            if not name:
                raise _error("empty parameter name", text, start)
            tokens.append(Token(PARAM, name, start + 1))
            i = j + 1
        elif ch == "$":
            i += 1
            while i < n and _is_ident_char(text[i]):
                i += 1
            if i == start + 1:
                raise _error("a variable needs a name after $", text, start, "for example $item")
            tokens.append(Token(VAR, text[start + 1 : i], start + 1))
        elif _is_ident_start(ch):
            while i < n and _is_ident_char(text[i]):
                i += 1
            tokens.append(Token(IDENT, text[start:i], start + 1))
        elif ch == "(":
            tokens.append(Token(LPAREN, "(", start + 1))
            i += 1
        elif ch == ")":
            tokens.append(Token(RPAREN, ")", start + 1))
            i += 1
        elif ch == ",":
            tokens.append(Token(COMMA, ",", start + 1))
            i += 1
        elif text.startswith("==", i) or text.startswith("!=", i):
            raise _error(f"unknown operator {text[i : i + 2]!r}", text, start, "compare with = and <>")
        else:
            for op in OPERATORS:
                if text.startswith(op, i):
                    tokens.append(Token(OP, op, start + 1))
                    i += len(op)
                    break
            else:
                hint = None
                if ch == "!":
                    hint = "there is no negation operator; compare with = False"
                elif ch == "'":
                    hint = 'string literals take double quotes ""'
                elif ch == "|":
                    hint = "the or operator is ||"
                raise _error(f"unexpected character {ch!r}", text, start, hint)
    tokens.append(Token(EOF, None, n + 1))
    return tokens


_HEX = frozenset("0123456789abcdefABCDEF")
_INT64_MAX = 2**63 - 1
