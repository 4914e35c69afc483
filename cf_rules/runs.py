"""Each rule executed once per table within one request.

A CF request runs the same rules on the same table twice over: the CF task's ranking
(codefusion/tasks/cf/adapter.py) executes every candidate to merge those that format the same cells, then
the pipeline previews the survivors. With a 1,000-row table one execution costs milliseconds, so the
pipeline opens a memo for the request and both sides execute through it:

    with request_runs():
        execute_once(rule, canonical, table)     # executes
        execute_once(rule, canonical, table)     # the same Execution again

The memo lives in a ContextVar for the `with` block only, because the ranking is reached through the
generator, whose interface carries no request state. Nothing outlives the block and each request
(thread) sees its own memo. Outside a block `execute_once` is plain `execute`.

Keys are (canonical rule text, identity of the table's rows, columns): the canonical text determines
the rule (print -> parse -> print is stable). The ranking reads the table at A1 while the preview reads
the same rows where the user selected them (`Sheet1!C5:F20`, `pipeline.place_table` shares the rows):
a condition rule formats the same cells of the rows wherever they sit, so its execution is reused with
the addresses moved; a formula rule's relative references depend on the origin, so it is executed
again. Callers must not mutate the Execution they get: it is shared.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from contextvars import ContextVar

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from .syntax import Formula
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
    movable = not isinstance(rule, Formula)
    key = (canonical, id(table.rows), None if columns is None else tuple(columns),
           None if movable else table.origin)
    entry = memo.get(key)
    if entry is None:
        # the entry holds the table so that the id of its rows cannot be reused by another table meanwhile
        entry = memo[key] = (table, execute(rule, table, columns=columns))
    ran_on, execution = entry
    if ran_on.origin == table.origin:
        return execution
    return _moved(execution, table.origin[0] - ran_on.origin[0], table.origin[1] - ran_on.origin[1])


def _moved(execution: Execution, rows: int, cols: int) -> Execution:
    """The same execution with every cell address moved by (rows, cols)."""
    def move(address: str) -> str:
        # the executor writes plain A1 addresses (letters, then digits); a preview moves thousands
        split = len(address.rstrip(_DIGITS))
        return _moved_column(address[:split], cols) + str(int(address[split:]) + rows)
    return Execution([move(a) for a in execution.cells], {move(a): v for a, v in execution.visual.items()})


_DIGITS = "0123456789"


@lru_cache(maxsize=1024)
def _moved_column(letters: str, cols: int) -> str:
    return get_column_letter(column_index_from_string(letters) + cols)
