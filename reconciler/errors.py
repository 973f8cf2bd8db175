"""The one exception tree of the reconciler.

Every error the library raises is a ``ReconcilerError``. The CLI turns each
into one line (what, where, how to fix) and an exit code; a traceback is only
ever printed for a ``Bug``.

    ReconcilerError                 base; ``retryable`` says whether a retry can help
    ├── UserError                   the user's input is wrong; fix it and run again (exit 1)
    │   ├── PlaybookError           a playbook cannot be loaded or is invalid (file:line:col)
    │   ├── SecretError             a secret reference cannot be resolved (names the variable/file, never a value)
    │   ├── ExpressionError         an expression is malformed or cannot be evaluated
    │   │   ├── ExpressionSyntaxError   a parse error, pointing at a column
    │   │   └── ExpressionEvalError     an evaluation error (wrong type, bad argument)
    │   ├── PlanError               a plan file is unreadable or does not fit the playbook
    │   │   └── StalePlanError      the saved plan no longer matches (playbook, state or systems changed)
    │   └── ApprovalRequired        apply needs confirmation and there is no terminal (exit 1)
    ├── SafetyGateError             a safety gate stopped the run, nothing was written (exit 3)
    │   └── DeletionThresholdError  a connector's deletes exceed its delete_threshold
    ├── StateError                  the state store cannot be used
    │   ├── StateLockedError        another run holds the state lock (names pid, host, since)
    │   └── StateVersionError       the state was written by a newer reconciler
    ├── ConnectorError              a connected system failed; raised at the connector boundary
    │   ├── ConnectionFailed        cannot reach or bind to the system (retryable)
    │   ├── ThrottledError          the system asked to slow down (retryable)
    │   ├── SchemaMismatch          the system rejects an object type or attribute (terminal)
    │   └── ObjectError             one object failed (import or export); recorded, the run goes on
    └── Bug                         an invariant broke inside the reconciler: report it
"""

from __future__ import annotations


class ReconcilerError(Exception):
    """Base of every error the reconciler raises on purpose."""

    retryable: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if retryable is not None:
            self.retryable = retryable

    def one_line(self) -> str:
        """The message as the CLI prints it: what, where, and how to fix it."""
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UserError(ReconcilerError):
    """The user's input is wrong; fixing it and running again helps, retrying does not."""


class PlaybookError(UserError):
    """A playbook cannot be loaded or is invalid; carries file, line and column when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.column = column

    def one_line(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return where + super().one_line()


class SecretError(UserError):
    """A secret reference cannot be resolved; the message names the variable or file, never a value."""


class ExpressionError(UserError):
    """An expression is malformed or cannot be evaluated."""


class ExpressionSyntaxError(ExpressionError):
    """A parse error; ``column`` (1-based) points at the offending character."""

    def __init__(self, message: str, *, column: int, expression: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.column = column
        self.expression = expression


class ExpressionEvalError(ExpressionError):
    """An evaluation error: a wrong argument type or value."""


class PlanError(UserError):
    """A plan file is unreadable, corrupt, or was made for another playbook."""


class StalePlanError(PlanError):
    """The saved plan no longer matches what apply computes now; ``causes`` says what moved."""

    def __init__(self, message: str, *, causes: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.causes = causes or []


class ApprovalRequired(UserError):
    """Apply needs an answer and there is no terminal to ask on."""


class SafetyGateError(ReconcilerError):
    """A safety gate stopped the run before anything was written."""

    exit_code = 3
    status = "stopped-safety-gate"


class DeletionThresholdError(SafetyGateError):
    """A connector's pending deletes exceed its delete_threshold; nothing was exported anywhere."""

    status = "stopped-deletion-threshold-exceeded"


class StateError(ReconcilerError):
    """The state store cannot be opened or used."""


class StateLockedError(StateError):
    """Another run holds the state lock; retrying after it ends helps.

    ``pid``, ``host`` and ``since`` come from the record the holder wrote into
    the lock file; any of them is None when the record could not be read.
    """

    retryable = True

    def __init__(
        self,
        state: str,
        *,
        pid: int | None = None,
        host: str | None = None,
        since: str | None = None,
        hint: str | None = "wait for that run to end; the lock is released when its process exits",
    ) -> None:
        holder = f"pid {pid if pid is not None else '?'} on {host or '?'} since {since or '?'}"
        super().__init__(f"the state {state} is locked by another run ({holder})", hint=hint)
        self.state = state
        self.pid = pid
        self.host = host
        self.since = since


class StateVersionError(StateError):
    """The state file was written by a newer reconciler than this one."""


class ConnectorError(ReconcilerError):
    """A connected system failed; always raised at the connector boundary with ``from exc``."""

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable)
        self.connector = connector

    def one_line(self) -> str:
        prefix = f"connector {self.connector}: " if self.connector else ""
        return prefix + super().one_line()


class ConnectionFailed(ConnectorError):
    """The system cannot be reached or refused the credentials."""

    retryable = True


class ThrottledError(ConnectorError):
    """The system asked the client to slow down (HTTP 429, LDAP busy)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class SchemaMismatch(ConnectorError):
    """The system rejects an object type or attribute the playbook names."""


class ObjectError(ConnectorError):
    """One object failed to import or export; it is recorded on the object and the run goes on."""

    def __init__(self, message: str, *, dn: str | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.dn = dn


class Bug(ReconcilerError):
    """An invariant broke inside the reconciler; this is never the user's fault."""
