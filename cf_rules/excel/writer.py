"""The Excel writer's public names in one place: native rules (`native.py`: a CF-language rule
as the openpyxl rule Excel would write, and its formula) and packages (`package.py`: those rules
written into a user's workbook with every other part kept)."""
from __future__ import annotations

from .native import (CellRange, condition_formula, differential_style, literal_formula, parse_range,  # noqa: F401
                     quote_text, rule_formula, to_openpyxl_rule, write_rules_to_worksheet)
from .package import RuleApplication, apply_rules  # noqa: F401

__all__ = ["CellRange", "RuleApplication", "apply_rules", "condition_formula", "differential_style",
           "literal_formula", "parse_range", "quote_text", "rule_formula", "to_openpyxl_rule",
           "write_rules_to_worksheet"]
