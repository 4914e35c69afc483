"""Decoded rule text on its way to the grammar: a light syntactic repair, the debris filter, and the
keyword reader used when no decoded code parses."""
from __future__ import annotations

import re

from cf_rules.syntax import CATALOGUE, Text, canonical_name, iter_conditions

from .literals import Masked


def repair(code: str) -> str:
    """A light syntactic repair of decoded rule text: strip, cut trailing junk after the first
    complete call, drop commas before ')', close unbalanced brackets and parentheses."""
    text = " ".join(code.split())
    if not text:
        return text
    if text.startswith("="):
        return text
    depth_paren, depth_brack, quote, end = 0, 0, None, None
    out = []
    for i, ch in enumerate(text):
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'" and out and out[-1] in "(, ":
            quote = ch
        elif ch == "(":
            depth_paren += 1
        elif ch == ")":
            if depth_paren == 0:
                continue            # a stray ')'
            depth_paren -= 1
        elif ch == "[":
            depth_brack += 1
        elif ch == "]":
            if depth_brack == 0:
                continue
            depth_brack -= 1
        out.append(ch)
        if depth_paren == 0 and "(" in out:
            end = len(out)
            break
    text = "".join(out[:end] if end else out).rstrip(" ,")
    if quote:
        text += quote
    text = re.sub(r",\s*\)", ")", text)
    text += "]" * depth_brack if end is None else ""
    if end is None:
        text = text.rstrip(" ,") + ")" * max(0, text.count("(") - text.count(")"))
    return text


# ----------------------------------------------------------------------------------------------
# a keyword reader for when the model gives nothing valid

def keyword_rules(masked: Masked) -> list[str]:
    """Rules read off the request's words, literals from its placeholders. Deliberately small:
    only the unambiguous cues; an empty list when none is present."""
    text = masked.text.lower()
    slots = masked.slot_values()
    num = [slots[s] for s in sorted(slots) if s.startswith("<NUM")]
    strs = [slots[s] for s in sorted(slots) if s.startswith("<STR")]
    out = []
    if num:
        a = num[0]
        if re.search(r"\bbetween\b", text) and len(num) >= 2:
            out.append(f"Between({num[0]}, {num[1]})")
        elif re.search(r"\b(top|highest|largest|best)\b", text):
            out.append(f"top({a}%)" if "%" in text else f"top({a})")
        elif re.search(r"\b(bottom|lowest|smallest|worst)\b", text):
            out.append(f"bottom({a}%)" if "%" in text else f"bottom({a})")
        elif re.search(r"\b(at least|or more|greater than or equal|>=)", text):
            out.append(f"GreaterThanEqual({a})")
        elif re.search(r"\b(at most|or less|less than or equal|<=)", text):
            out.append(f"LessThanEqual({a})")
        elif re.search(r"\b(greater|more|above|over|exceed\w*|higher|larger|bigger)\b|>", text):
            out.append(f"GreaterThan({a})")
        elif re.search(r"\b(less|below|under|lower|smaller|fewer)\b|<", text):
            out.append(f"LessThan({a})")
        elif re.search(r"\b(equal\w*|exactly|is|are)\b|=", text):
            out.append(f"Equals({a})")
    if strs and not out:
        value = strs[0]
        if re.search(r"\b(start|begin)", text):
            out.append(f"TextStartsWith({value})")
        elif re.search(r"\bend(s|ing)?\b", text):
            out.append(f"TextEndsWith({value})")
        elif re.search(r"\b(contain\w*|include\w*|in them|mention\w*)\b", text):
            out.append(f"TextContains({value})")
        else:
            out.append(f"TextEquals({value})")
    for pattern, rule in ((r"\babove (the )?average\b", "aboveAverage()"), (r"\bbelow (the )?average\b", "belowAverage()"),
                          (r"\bduplicate", "Duplicate()"), (r"\bunique\b", "Unique()"),
                          (r"\b(not blank|non-blank|not empty|non-empty)\b", "NOT(Blanks())"),
                          (r"\b(blank|empty)\b", "Blanks()"), (r"\berrors?\b", "Errors()"),
                          (r"\bcolou?r ?scale|heat ?map|gradient\b", "ColorScale()"), (r"\bdata ?bars?\b", "DataBar()"),
                          (r"\bicon", "IconSet()"), (r"\btop\b", "top(10)"), (r"\bbottom\b", "bottom(10)")):
        if not out and re.search(pattern, text):
            out.append(rule)
    return out


# ----------------------------------------------------------------------------------------------
# the adapter


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _nonsense_literal(rule, request: str = "") -> bool:
    """A rule the grammar accepts but no person meant, decoding debris: a broken column reference
    (`GreaterThan(c[])`), brackets the request does not have (`GreaterThan(250[])`,
    `TextContains(Osaka[])`: in the rule language brackets belong to `c[i]` only, so these are
    pieces of a column reference glued to a literal), or a comparison with a rule name
    (`LessThan(LessThan)`). Text rules keep such words: `TextContains(Error)` is a real request."""
    folded_request = request.casefold()
    for cond in iter_conditions(rule):
        for arg in cond.args:
            if not isinstance(arg, Text):
                continue
            if _BROKEN_COLUMN.match(arg.value):
                return True
            if ("[" in arg.value or "]" in arg.value) and arg.value.casefold() not in folded_request:
                return True
            if CATALOGUE[cond.name].family == "compare" and (
                    not any(ch.isalnum() for ch in arg.value) or arg.value.strip().lower() == "c"):
                return True   # `Between(5, ])`, `LessThan(c)`: punctuation or a column without its index
            if CATALOGUE[cond.name].family == "compare" and (canonical_name(arg.value) or _GLUED_NAME.match(arg.value)):
                return True   # `LessThan(LessThan)`, `LessThan(c[2], GreaterThanEqual500)`
    return False


_GLUED_NAME = re.compile("(?:" + "|".join(sorted((n for n in CATALOGUE if len(n) >= 5), key=len, reverse=True))
                         + r")[\d.%\-]", re.IGNORECASE)
_BROKEN_COLUMN = re.compile(r"^c\s*\[[^\]]*\]?$", re.IGNORECASE)
