"""What a rule paints on the user's selection, and the native rule that paints exactly that.

A rule tests columns; what it *formats* is a separate choice, the paint target:

    Paint("cells", 4)    the tested column's own cells  ("highlight the amounts over 500")
    Paint("rows")        every cell of each matching row ("highlight the deals over 500")
    Paint("column", 1)   another column's cells          ("highlight the names of students who scored ...")
    Paint("all")         every cell of the range, each tested on its own value (a cell rule on a
                         one-column range; on a wider range Excel would compare names with numbers)

    application(rule, paint, table) -> Application(rule, columns)   the native rule and its columns
    painted(rule, paint, table)     -> Execution                    the cells it formats there

A row rule `GreaterThan(c[4], 500)` painting cells becomes the cell rule `GreaterThan(500)` on
column 4's data cells; painting another column it becomes the formula rule `=$E2>500` on that
column; a formula rule keeps its text and only changes the columns it is applied to. So the
preview, the Office.js payload, the workbook writer and the evaluation all read one definition.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from .errors import UnsupportedRuleError
from .excel.native import condition_formula, parse_range   # the Excel writer's own translation of c[i]
from .executor import Execution, execute
from .syntax import CATALOGUE, Condition, Formula, iter_conditions
from .table import Table

TARGETS = ("cells", "rows", "column", "all")


@dataclass(frozen=True)
class Paint:
    target: str                 # one of TARGETS
    column: int | None = None   # the painted column for "cells" and "column" (0-based, table columns)

    def __post_init__(self):
        if self.target not in TARGETS:
            raise ValueError(f"paint target {self.target!r} is not one of {', '.join(TARGETS)}")
        if (self.target in ("cells", "column")) != (self.column is not None):
            raise ValueError(f"paint target {self.target!r} {'needs' if self.column is None else 'takes no'} a column")

    def to_dict(self) -> dict:
        return {"target": self.target, "column": self.column}


@dataclass(frozen=True)
class Application:
    """A native rule and the table columns whose data cells it is applied to (all data rows)."""
    rule: object                # Condition | Formula, as the workbook writer and Office.js take it
    columns: tuple[int, ...]

    def cell_range(self, table: Table) -> str:
        """The A1 range of the data cells it covers ('E2:E23'); columns are contiguous or one."""
        first, last = min(self.columns), max(self.columns)
        return f"{table.address(0, first)}:{table.address(table.n_rows - 1, last)}"


_REFERENCE = re.compile(r"(?<![A-Za-z_\d])\$?([A-Za-z]{1,3})\$?\d+(?![\w(])")
_STRING = re.compile(r'"(?:[^"]|"")*"')


def tested_columns(rule, table: Table | None = None) -> set[int]:
    """The table columns a rule reads: its `c[i]`, or the columns a formula references (relative
    to the table's origin). Empty for a cell rule."""
    if isinstance(rule, Formula):
        if table is None:
            return set()
        text = _STRING.sub('""', rule.formula)
        first = table.origin[1]
        columns = {column_index_from_string(m.group(1).upper()) - first for m in _REFERENCE.finditer(text)}
        return {c for c in columns if 0 <= c < table.n_cols}
    return {c.column for c in iter_conditions(rule) if c.column is not None}


def is_visual(rule) -> bool:
    return isinstance(rule, Condition) and CATALOGUE[rule.name].family == "visual"


def readings(rule, table: Table) -> list[Paint]:
    """Every paint target that makes sense for `rule` on `table`, the rule's own first: a one-column
    rule can paint its column or the rows; a rule on several columns paints rows (or one of them); a
    visual rule paints its column; a cell rule paints the range it is applied to."""
    columns = sorted(tested_columns(rule, table))
    if not columns:
        return [Paint("all")]
    if is_visual(rule):
        return [Paint("cells", columns[0])]
    if len(columns) == 1:
        return [Paint("cells", columns[0]), Paint("rows")]
    return [Paint("rows")]


def own_paint(rule, table: Table) -> Paint:
    """What a rule paints by the language's own semantics: a cell rule every cell of its range, a
    visual rule the column it draws on, a row rule (or a formula naming columns) whole rows."""
    if not tested_columns(rule, table):
        return Paint("all")
    return readings(rule, table)[0] if is_visual(rule) else Paint("rows")


def application(rule, paint: Paint, table: Table) -> Application:
    """The native rule that formats exactly what `paint` says, and the columns it covers."""
    everything = tuple(range(table.n_cols))
    columns = sorted(tested_columns(rule, table))
    if paint.target == "all":
        if columns and not isinstance(rule, Formula):
            raise UnsupportedRuleError("a rule that names columns cannot paint every cell on its own values",
                                       hint="paint the rows, or the column it tests")
        return Application(rule, everything)
    if paint.target == "rows":
        if is_visual(rule):
            raise UnsupportedRuleError(f"{rule.name} draws on cells and cannot shade whole rows",
                                       hint="paint the column it draws on")
        if isinstance(rule, Condition) and not columns:
            raise UnsupportedRuleError("a cell rule tests each cell on its own value and cannot shade rows",
                                       hint="name the column it tests, e.g. c[2]")
        return Application(rule, everything)
    if not 0 <= paint.column < table.n_cols:
        raise UnsupportedRuleError(f"column {paint.column} is not in the table",
                                   hint=f"columns are 0..{table.n_cols - 1}")
    if isinstance(rule, Formula):
        return Application(rule, (paint.column,))
    if paint.target == "cells" and columns in ([paint.column], []):
        return Application(_without_columns(rule), (paint.column,))
    if is_visual(rule):
        raise UnsupportedRuleError(f"{rule.name} draws on the column it reads", hint="paint that column")
    if not columns:
        raise UnsupportedRuleError("a cell rule tests the cells it paints", hint="paint its own column")
    return Application(Formula(row_formula(rule, table)), (paint.column,))


def painted(rule, paint: Paint, table: Table, *, today=None) -> Execution:
    """The cells (and colours, bars, icons) that `rule` painted as `paint` formats on `table`."""
    native = application(rule, paint, table)
    return execute(native.rule, table, today=today, columns=list(native.columns))


def row_formula(rule: Condition, table: Table) -> str:
    """The formula of a row rule (without its '='), written for the first data row with anchored
    columns ('$E2>500'), so that it can be applied to any column of the table."""
    return condition_formula(rule, parse_range(table.data_range()))


def _without_columns(rule):
    if isinstance(rule, Condition):
        return replace(rule, column=None, args=tuple(_without_columns(a) if isinstance(a, Condition) else a
                                                     for a in rule.args))
    return rule


def column_letter(table: Table, column: int) -> str:
    return get_column_letter(table.origin[1] + column)
