"""A reading of the model's output on its way to ranking, and how rewrites add readings."""
from __future__ import annotations

from typing import NamedTuple

SIBLING_PENALTY = 1.0     # siblings rank after every model reading anyway; this orders them among themselves
FLIP_PENALTY = 0.5        # a connective flip scores this much below the code it flips (as much as one vote doubling)


def add_rewrites(valid: list, rewrite, as_reading) -> None:
    """Append `as_reading(reading, rewrite(reading.code))` for each reading `rewrite` changes (None: no
    change); each distinct code is rewritten once, however many draws agree on it."""
    rewritten: dict[str, str | None] = {}
    for reading in list(valid):
        if reading.code not in rewritten:
            rewritten[reading.code] = rewrite(reading.code)
        if rewritten[reading.code] is not None:
            valid.append(as_reading(reading, rewritten[reading.code]))


class Reading(NamedTuple):
    """One valid reading of the model's output on its way to ranking: a canonical rule, the score of the
    code it came from, whether a noise draw produced it (False: a variant), and how many votes it adds
    to its group (a connective flip adds none: no sample wrote it)."""
    code: str
    score: float
    drawn: bool = True
    votes: int = 1
    filler: bool = False      # a sibling of a ranked rule (`siblings`): offered only after every model reading
