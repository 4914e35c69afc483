"""Each rule executed once per table within one request.

A CF request runs the same rules on the same table twice over: the CF task's ranking
(codefusion/tasks/cf.py) executes every candidate to merge those that format the same cells, then
the pipeline previews the survivors. With a 1,000-row table one execution costs milliseconds, so the
pipeline opens a memo for the request and both sides execute through it:

    with request_runs():
        execute_once(rule, canonical, table)     # executes
        execute_once(rule, canonical, table)     # the same Execution again

The memo lives in a ContextVar for the `with` block only, because the ranking is reached through the
generator, whose interface carries no request state. Nothing outlives the block and each request
(thread) sees its own memo. Outside a block `execute_once` is plain `execute`.

Keys are (canonical rule text, table identity, columns): the canonical text determines the rule
(print -> parse -> print is stable), and tables are compared by identity, so the same rows placed at
another origin are another entry. Callers must not mutate the Execution they get: it is shared.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from .executor import Execution, execute
from .table import Table

_memo: ContextVar[dict | None] = ContextVar("cf_request_runs", default=None)


@contextmanager
def request_runs():
    """A fresh memo for the block (one request); dropped when the block ends."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def execute_once(rule, canonical: str, table: Table, *, columns: list[int] | None = None) -> Execution:
    """`execute(rule, table, columns=columns)`, memoised within a `request_runs()` block.
    A rule that raises is not memoised: such rules are rare and fail fast."""
    memo = _memo.get()
    if memo is None:
        return execute(rule, table, columns=columns)
    key = (canonical, id(table), None if columns is None else tuple(columns))
    entry = memo.get(key)
    if entry is None:
        # the entry holds the table so that its id cannot be reused by another table meanwhile
        entry = memo[key] = (table, execute(rule, table, columns=columns))
    return entry[1]
