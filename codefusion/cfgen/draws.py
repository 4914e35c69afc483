"""Literals drawn from a generated table: thresholds between real values, round numbers as people
write them, text taken from real cells, and how a request spells each of them."""
from __future__ import annotations

import random

from cf_rules.table import table_from_json

from ..tasks.cf.literals import number_spelling


class Draw(Exception):
    """This draw cannot make a good triple (e.g. no matching cell); try another."""


def _column_values(rows, col):
    return [r[col] for r in rows[1:]]


def _numbers_of(rows, col) -> list[float]:
    table = table_from_json(rows)
    return [v for v in table.column(col) if isinstance(v, (int, float)) and not isinstance(v, bool)]


# ----------------------------------------------------------------------------------------------
# literals drawn from the table

def _is_percent_column(rows, col) -> bool:
    values = [v for v in _column_values(rows, col) if isinstance(v, str)]
    return bool(values) and all(v.endswith("%") for v in values)


def _nice(x: float, rng: random.Random) -> float:
    """A round threshold near x, the way people write them (480 -> 500, 37 -> 40, 0.37 -> 0.4)."""
    if rng.random() < 0.35:
        return x
    magnitude = 10 ** max(0, len(str(int(abs(x)))) - 2) if abs(x) >= 1 else 0.1
    step = rng.choice([1, 5]) * magnitude
    return round(round(x / step) * step, 6)


def _number_surface(value: float, rng: random.Random, money: bool = False, percent: bool = False) -> tuple[str, str]:
    """(how the request writes it, how the rule writes it): '1,500' -> '1500', '$800' -> '800', '40%'."""
    if percent:
        text = f"{int(round(value * 100))}%"
        return text, text
    if float(value).is_integer():
        plain = str(int(value))
    else:
        plain = f"{value:.2f}".rstrip("0").rstrip(".")
    surface = plain
    r = rng.random()
    if abs(value) >= 1000 and float(value).is_integer() and r < 0.3:
        surface = f"{int(value):,}"
    elif abs(value) >= 1000 and float(value).is_integer() and int(value) % 1000 == 0 and r < 0.4:
        surface = f"{int(value) // 1000}k"
    if money and value >= 0 and rng.random() < 0.3:
        surface = "$" + surface
    return surface, number_spelling(surface)


def _threshold(rng, numbers, low_q=0.15, high_q=0.85) -> float:
    ordered = sorted(numbers)
    lo, hi = int(low_q * (len(ordered) - 1)), int(high_q * (len(ordered) - 1))
    return _nice(ordered[rng.randint(lo, max(lo, hi))], rng)


def _text_literal(rng, values: list[str], how: str) -> str:
    """Text for a text rule, taken from real cells: whole value, a word of it, a prefix or a suffix."""
    texts = [v for v in values if isinstance(v, str) and v.strip() and not v.startswith("#")]
    if not texts:
        raise Draw("no text cells")
    value = rng.choice(texts)
    if how == "equals":
        return value
    words = value.split()
    if how == "contains":
        if len(words) > 1 and rng.random() < 0.6:
            return rng.choice(words)
        if len(value) >= 4 and rng.random() < 0.5:
            a = rng.randrange(0, len(value) - 2)
            return value[a:a + rng.randint(2, min(5, len(value) - a))].strip() or value
        return value
    if how == "starts":
        if len(words) > 1 and rng.random() < 0.5:
            return words[0]
        return value[:rng.randint(1, min(4, len(value)))].strip() or value
    if how == "ends":
        if len(words) > 1 and rng.random() < 0.5:
            return words[-1]
        return value[-rng.randint(1, min(4, len(value))):].strip() or value
    raise ValueError(how)


def _text_surface(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.18:
        return f'"{text}"'
    if r < 0.26:
        return f"'{text}'"
    return text
