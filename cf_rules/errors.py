"""Errors of the rule language. Each says what is wrong, where, and how to fix it;
`code` is stable so the API can return it to callers."""
from __future__ import annotations


class RuleError(ValueError):
    code = "rule_error"

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class RuleSyntaxError(RuleError):
    """The rule text does not parse. `position` is the 0-based character offset."""
    code = "rule_syntax"

    def __init__(self, message: str, *, rule: str, position: int, expected: list[str] | None = None,
                 hint: str | None = None):
        super().__init__(message, hint=hint)
        self.rule = rule
        self.position = position
        self.expected = sorted(expected or [])

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.update(position=self.position, expected=self.expected)
        return out


class UnsupportedRuleError(RuleError):
    """The rule parses but asks for something the executor or Excel writer cannot do."""
    code = "rule_unsupported"


class TableError(RuleError):
    """The table (JSON rows or a sheet/range) is malformed or does not exist."""
    code = "table_error"


class WorkbookError(RuleError):
    """The workbook cannot be read, or cannot be written back without losing something."""
    code = "workbook_error"
