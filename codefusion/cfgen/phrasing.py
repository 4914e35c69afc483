"""The words of generated requests: verbs, objects, condition phrases per rule kind, frames
(imperative, question, casual, statement, benchmark-like), style and location clauses, typos.

Every piece is a plain string with named slots ({a}, {b} for literals, {col} for a column name).
`Pieces.pick(kind, items)` draws one while honouring the held-out set: a stable hash of the piece's
text holds out ~15 % of frames and condition phrasings (never the first of a list, so every kind
keeps training phrasings). The training portion never draws a held-out piece; the "novel" portion
must use at least one, which makes the novel-phrasing dev slice measure generalisation to wordings
the model has not seen rather than recall of templates.
"""
from __future__ import annotations

import hashlib
import random
import re

HELD_OUT_PERCENT = 15


def is_held_out(piece: str) -> bool:
    return int(hashlib.sha1(piece.encode("utf-8")).hexdigest(), 16) % 100 < HELD_OUT_PERCENT


class Pieces:
    """Draws phrasing pieces for one triple; remembers whether a held-out piece was used."""

    def __init__(self, rng: random.Random, split: str):
        if split not in ("train", "novel"):
            raise ValueError(f"split must be 'train' or 'novel', got {split!r}")
        self.rng, self.split, self.used_held_out, self.used = rng, split, False, []

    def pick(self, items, holdable: bool = True, want_held: bool = False) -> str:
        """One piece. Training never draws a held-out piece; `want_held` asks the novel split for one."""
        items = list(items)
        pool = items
        if holdable and len(items) > 1:
            allowed = [items[0]] + [p for p in items[1:] if not is_held_out(p)]
            held = [p for p in items[1:] if is_held_out(p)]
            if self.split == "train":
                pool = allowed
            elif want_held and held:
                pool = held
        choice = self.rng.choice(pool)
        if holdable and len(items) > 1 and choice != items[0] and is_held_out(choice):
            self.used_held_out = True
        self.used.append(choice)
        return choice


# ----------------------------------------------------------------------------------------------
# verbs and objects

VERBS = ("highlight", "colour", "color", "mark", "shade", "flag", "format", "fill", "paint", "emphasise",
         "emphasize", "style", "select", "show", "tint", "make bold", "bold", "pick out", "call out",
         "visually flag", "colour-code", "color in")
CELL_OBJECTS = ("cells", "values", "the cells", "the values", "entries", "numbers", "any cell", "all cells",
                "every cell", "items", "data points", "fields", "the entries", "all values", "anything")
TEXT_OBJECTS = ("cells", "values", "entries", "the cells", "items", "any cell", "labels", "names", "fields",
                "records")
ROW_OBJECTS = ("rows", "the rows", "entire rows", "the whole row", "full rows", "each row", "lines", "records",
               "the records", "every row", "any row")
RELATIVE = ("that are", "which are", "whose value is", "where the value is", "if they are", "if the value is",
            "with a value", "having values", "that have value", "that have a value", "where value is",
            "when the value is", "if value is", "that's", "which is")

# ----------------------------------------------------------------------------------------------
# condition phrases: `pred` follows "is/are", `part` follows a noun directly ("cells over 5"),
# `noun` stands alone as the object ("duplicates", "the top 5 values").

COMPARE = {
    "GreaterThan": {
        "pred": ("greater than {a}", "more than {a}", "above {a}", "over {a}", "bigger than {a}", "higher than {a}",
                 "larger than {a}", "> {a}", "in excess of {a}", "greater then {a}", "strictly above {a}",
                 "north of {a}", "past {a}"),
        "part": ("greater than {a}", "over {a}", "above {a}", "exceeding {a}", "that exceed {a}", "more than {a}",
                 "> {a}", "which exceed {a}", "that go over {a}", "bigger than {a}", "higher than {a}"),
    },
    "GreaterThanEqual": {
        "pred": ("greater than or equal to {a}", "at least {a}", "{a} or more", ">= {a}", "no less than {a}",
                 "equal to or greater than {a}", "{a} or higher", "not below {a}", "{a} or above",
                 "minimum {a}", "≥ {a}"),
        "part": ("of at least {a}", "of {a} or more", ">= {a}", "greater than or equal to {a}",
                 "with {a} or more", "that reach {a}", "at or above {a}"),
    },
    "LessThan": {
        "pred": ("less than {a}", "below {a}", "under {a}", "lower than {a}", "smaller than {a}", "< {a}",
                 "fewer than {a}", "beneath {a}", "less then {a}", "short of {a}", "south of {a}"),
        "part": ("less than {a}", "below {a}", "under {a}", "< {a}", "lower than {a}", "that fall below {a}",
                 "smaller than {a}", "which drop under {a}", "that are under {a}"),
    },
    "LessThanEqual": {
        "pred": ("less than or equal to {a}", "at most {a}", "{a} or less", "<= {a}", "no more than {a}",
                 "{a} or lower", "not above {a}", "equal to or less than {a}", "up to {a}", "≤ {a}",
                 "{a} or below", "max {a}"),
        "part": ("of at most {a}", "of {a} or less", "<= {a}", "less than or equal to {a}", "up to {a}",
                 "at or below {a}"),
    },
    "Equals": {
        "pred": ("equal to {a}", "exactly {a}", "= {a}", "{a}", "equals {a}", "the same as {a}", "== {a}",
                 "precisely {a}", "equal {a}"),
        "part": ("equal to {a}", "of exactly {a}", "with the value {a}", "that equal {a}", "= {a}",
                 "containing the number {a}", "with value {a}"),
    },
    "NotEquals": {
        "pred": ("not equal to {a}", "not {a}", "different from {a}", "!= {a}", "<> {a}", "other than {a}",
                 "anything but {a}", "unequal to {a}"),
        "part": ("not equal to {a}", "other than {a}", "that aren't {a}", "that differ from {a}", "<> {a}",
                 "that do not equal {a}"),
    },
    "Between": {
        "pred": ("between {a} and {b}", "between {a} to {b}", "from {a} to {b}", "in the range {a}-{b}",
                 "within {a} and {b}", "in between {a} and {b}", "between {a} & {b}", "{a} to {b}",
                 "somewhere between {a} and {b}", "in the {a}–{b} range", "inside {a}..{b}"),
        "part": ("between {a} and {b}", "from {a} to {b}", "in the range {a} to {b}", "ranging from {a} to {b}",
                 "with values between {a} and {b}", "that fall between {a} and {b}", "between {a} - {b}"),
    },
    "NotBetween": {
        "pred": ("not between {a} and {b}", "outside {a} to {b}", "outside the range {a}-{b}",
                 "outside of {a} and {b}", "not in the range {a} to {b}", "not within {a} and {b}",
                 "beyond {a}..{b}"),
        "part": ("not between {a} and {b}", "outside {a} and {b}", "outside the {a} to {b} range",
                 "that fall outside {a}-{b}", "that are not between {a} and {b}"),
    },
}

TEXT = {
    "TextContains": {
        "pred": ("containing {a}", "like {a}", "something with {a}", "including {a}"),
        "part": ("containing {a}", "that contain {a}", "which contain {a}", "with {a} in them", "that include {a}",
                 "that have {a} in them", "with {a} in the text", "mentioning {a}", "that have {a} in their value",
                 "including the text {a}", "where the text contains {a}", "that contain the word {a}",
                 "that mention {a}", "which have {a} somewhere in them", "containing the string {a}"),
    },
    "TextStartsWith": {
        "pred": ("starting with {a}", "beginning with {a}", "prefixed with {a}"),
        "part": ("starting with {a}", "that start with {a}", "beginning with {a}", "that begin with {a}",
                 "whose text starts with {a}", "which start with {a}", "with the prefix {a}",
                 "that start with the letters {a}", "that begin with the letter {a}"),
    },
    "TextEndsWith": {
        "pred": ("ending with {a}", "ending in {a}", "suffixed with {a}"),
        "part": ("ending with {a}", "that end with {a}", "ending in {a}", "that end in {a}", "with the suffix {a}",
                 "whose text ends with {a}", "which end with {a}"),
    },
    "TextEquals": {
        "pred": ("{a}", "equal to {a}", "exactly {a}", "marked {a}", "set to {a}", "labelled {a}", "= {a}",
                 "marked as {a}", "the text {a}", "equal {a}", "listed as {a}", "showing {a}"),
        "part": ("equal to {a}", "that say {a}", "that read {a}", "with the value {a}", "that are {a}",
                 "which are {a}", "marked {a}", "saying {a}", "with text {a}", "that show {a}",
                 "that have value equal to {a}", "labelled {a}", "named {a}", "called {a}", "= {a}"),
    },
}

RANK = {   # {n}: a count, {p}: a percent number
    "top": ("the top {n}", "top {n} values", "the {n} highest values", "the highest {n}", "the {n} largest",
            "the top {n} numbers", "the {n} biggest values", "top {n} items", "the best {n}", "top {n}",
            "the {n} greatest values", "the {n} top values", "top{n}", "the {n} highest"),
    "top1": ("the highest value", "the maximum", "the max value", "the largest value", "the top value",
             "the biggest number", "the single highest value", "the highest number", "the best one",
             "the top one", "the peak value"),
    "topP": ("the top {p}%", "top {p}%", "the top {p} percent", "the highest {p}%", "the top {p} pct",
             "the best {p}%", "values in the top {p}%", "top {p} percent of values", "the upper {p}%"),
    "bottom": ("the bottom {n}", "bottom {n} values", "the {n} lowest values", "the lowest {n}",
               "the {n} smallest", "the bottom {n} numbers", "the {n} smallest values", "bottom {n}",
               "the worst {n}", "the {n} least values", "the {n} lowest", "lowest {n} items"),
    "bottom1": ("the lowest value", "the minimum", "the min value", "the smallest value", "the bottom value",
                "the smallest number", "the single lowest value", "the lowest number", "the worst one"),
    "bottomP": ("the bottom {p}%", "bottom {p}%", "the bottom {p} percent", "the lowest {p}%",
                "the bottom {p} pct", "the worst {p}%", "values in the bottom {p}%", "the lower {p}%"),
}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten"}

AVERAGE = {
    "aboveAverage": ("above average", "above the average", "higher than the average", "greater than the mean",
                     "over the average", "above the mean", "better than average", "more than the average value",
                     "above avg", "higher than average"),
    "belowAverage": ("below average", "below the average", "lower than the average", "less than the mean",
                     "under the average", "below the mean", "worse than average", "less than the average value",
                     "below avg", "lower than average"),
}
SETS = {
    "Duplicate": {"noun": ("duplicates", "duplicate values", "the duplicates", "repeated values", "duplicate entries",
                           "values that appear more than once", "doubles", "dupes", "repeats",
                           "values occurring twice or more", "non-unique values"),
                  "pred": ("duplicated", "a duplicate", "repeated", "duplicates", "not unique", "listed twice",
                           "duplicate")},
    "Unique": {"noun": ("unique values", "the unique values", "distinct values that appear once",
                        "values that appear only once", "one-off values", "singletons", "non-repeated values",
                        "values with no duplicates"),
               "pred": ("unique", "not duplicated", "one of a kind", "only present once", "not repeated")},
}
STATES = {
    "Blanks": {"noun": ("blank cells", "blanks", "empty cells", "missing values", "the empty ones",
                        "cells with nothing in them", "empty entries", "gaps"),
               "pred": ("blank", "empty", "missing", "left blank", "not filled in", "null")},
    "Errors": {"noun": ("errors", "error cells", "cells with errors", "#N/A values", "formula errors",
                        "error values", "broken formulas"),
               "pred": ("an error", "errors", "#N/A or another error", "erroring", "showing an error")},
    "NotBlanks": {"noun": ("non-blank cells", "filled cells", "cells that are not empty", "non-empty cells",
                           "cells with something in them"),
                  "pred": ("not blank", "not empty", "filled in", "non-empty", "populated")},
    "NotErrors": {"noun": ("cells without errors", "non-error cells", "cells that are not errors"),
                  "pred": ("not an error", "error-free", "not showing an error")},
}
DATES = {
    "Today": ("today", "dated today", "with today's date", "due today", "from today", "for today", "of today"),
    "Yesterday": ("yesterday", "dated yesterday", "from yesterday", "with yesterday's date", "of yesterday"),
    "Tomorrow": ("tomorrow", "due tomorrow", "dated tomorrow", "for tomorrow", "with tomorrow's date"),
    "Last7Days": ("in the last 7 days", "in the past 7 days", "within the last seven days",
                  "from the past week", "from the last 7 days", "over the last 7 days", "in the previous 7 days",
                  "from the last seven days"),
    "ThisWeek": ("this week", "in this week", "from this week", "falling this week", "during the current week",
                 "in the current week"),
    "LastWeek": ("last week", "in the previous week", "from last week", "during last week", "in the prior week"),
    "NextWeek": ("next week", "in the coming week", "due next week", "during next week", "in the following week"),
    "ThisMonth": ("this month", "in the current month", "from this month", "during this month", "in this month"),
    "LastMonth": ("last month", "in the previous month", "from last month", "during last month",
                  "in the prior month"),
    "NextMonth": ("next month", "in the coming month", "due next month", "during next month",
                  "in the following month"),
}
DATE_NOUNS = ("dates", "cells", "entries", "deadlines", "the dates", "days", "items")

SCALES = {   # phrase -> colours (low, [mid,] high); () is Excel's default
    "": ("a colour scale", "a color scale", "a heat map", "a heatmap", "colour scales", "a 3-color scale",
         "a gradient", "a colour gradient", "color scale formatting", "a three colour scale"),
}
SCALE_COLOUR_WORDS = ("red", "yellow", "green", "blue", "white", "orange", "purple")
SCALE_SHAPES = ("a {c0}-{c1} colour scale", "a {c0} to {c1} color scale", "a {c0}-{c1}-{c2} colour scale",
                "a {c0}/{c1}/{c2} scale", "{c0} for low values and {c1} for high values",
                "a gradient from {c0} to {c1}", "the {c0} - {c1} - {c2} color scale",
                "a scale going {c0} to {c1}", "a {c0}, {c1}, {c2} heat map")
BARS = ("data bars", "a data bar", "in-cell bars", "bars", "data bar formatting", "a bar in each cell",
        "progress bars", "horizontal bars")
ICONS = {   # phrase -> icon set name ("" = Excel's default)
    "an icon set": "", "icons": "", "icon sets": "", "an icon set rule": "",
    "traffic lights": "3TrafficLights1", "traffic light icons": "3TrafficLights1",
    "arrows": "3Arrows", "3 arrows": "3Arrows", "up/down arrows": "3Arrows", "grey arrows": "3ArrowsGray",
    "5 arrows": "5Arrows", "five arrows": "5Arrows", "4 arrows": "4Arrows", "flags": "3Flags",
    "flag icons": "3Flags", "signs": "3Signs", "symbols": "3Symbols", "check marks and crosses": "3Symbols",
    "star ratings": "5Rating", "rating bars": "5Rating", "quarters": "5Quarters", "harvey balls": "5Quarters",
    "4 traffic lights": "4TrafficLights",
}

# ----------------------------------------------------------------------------------------------
# frames. {verb} {obj} {cond} {style} {loc}; {rest} = the whole imperative body for wrappers.

IMPERATIVE = ("{verb} {obj} {cond}{style}{loc}", "{verb} {obj} {cond}{loc}{style}", "{verb}{style} {obj} {cond}{loc}",
              "{loc_lead}{verb} {obj} {cond}{style}", "please {verb} {obj} {cond}{style}{loc}",
              "{verb} all {obj2} {cond}{style}{loc}", "{verb} {obj} {cond}{style}{loc} please",
              "can you {verb} {obj} {cond}{style}{loc}?", "could you {verb} {obj} {cond}{loc}{style}?",
              "how do i {verb} {obj} {cond}{style}{loc}?", "i want to {verb} {obj} {cond}{style}{loc}",
              "i'd like to {verb} {obj} {cond}{style}{loc}", "is it possible to {verb} {obj} {cond}{loc}?",
              "need to {verb} {obj} {cond}{style}{loc}", "{verb} {obj} {cond}{style}{loc}.",
              "apply conditional formatting to {verb_ing} {obj} {cond}{style}{loc}",
              "help me {verb} {obj} {cond}{loc}", "let's {verb} {obj} {cond}{style}",
              "{obj} {cond} should be highlighted{style}{loc}", "{obj} {cond}{style}{loc}",
              "{obj} {cond} -> {style_bare}", "conditional formatting for {obj} {cond}{loc}",
              "add a rule to {verb} {obj} {cond}{style}{loc}", "{verb} any {obj2} {cond}{style}",
              "make {obj} {cond} stand out{style}{loc}", "{obj} {cond} in {colour} pls",
              "set up formatting so {obj} {cond} get {colour}{loc}", "quick one: {verb} {obj} {cond}",
              "{verb} {obj} {cond}{loc}, thanks", "what's the way to {verb} {obj} {cond}?")
NOUN_FRAMES = ("{verb} {noun}{style}{loc}", "{verb}{style} {noun}{loc}", "please {verb} {noun}{style}{loc}",
               "can you {verb} {noun}{loc}?", "how do i {verb} {noun}{style}?", "i want to see {noun}{style}{loc}",
               "show me {noun}{loc}", "{noun}{style}{loc}", "{noun} -> {style_bare}", "find {noun}{loc}",
               "{verb} {noun}{loc}.", "apply conditional formatting to {verb_ing} {noun}{loc}",
               "{noun} should stand out{style}", "{loc_lead}{verb} {noun}{style}", "identify {noun}{loc}",
               "could you {verb} {noun}{style}{loc} please?", "need {noun} {verb_ed}{style}",
               "{verb} {noun}{loc} pls", "make {noun} visible{style}{loc}", "spot {noun}{loc}",
               "conditional format for {noun}{loc}")
ROW_FRAMES = ("{verb} {rows} where {col} is {pred}{style}", "{verb} {rows} where {col} {is} {pred}{style}",
              "{verb} {rows} whose {col} is {pred}{style}", "{verb} {rows} with {col} {part}{style}",
              "{verb} the whole row if {col} is {pred}{style}", "if {col} is {pred}, {verb} the row{style}",
              "can you {verb} {rows} where {col} is {pred}?", "{rows} where {col} is {pred}{style}",
              "{verb}{style} {rows} where the {col} is {pred}", "{verb} {rows} that have {col} {part}{style}",
              "i want {rows} with {col} {part} {verb_ed}{style}", "{verb} {rows} when {col} is {pred}{style}",
              "{verb} {rows} for which {col} is {pred}{style}", "{verb} {col} {part}{style}",
              "{verb} {col} values {part}{style}", "in the {col} column, {verb} cells {part}{style}",
              "{verb} cells in {col} {part}{style}", "{col} {part} -> {style_bare}",
              "{verb} {col} entries that are {pred}{style}", "for {col}, {verb} anything {part}{style}",
              "flag each row where {col} is {pred}", "how do i {verb} {rows} where {col} is {pred}?",
              "{verb} {rows} if the {col} value is {pred}{style}", "{verb} where {col} is {pred}{style}")
ROW_NOUN_FRAMES = ("{verb} {noun} in {col}{style}", "{verb} {noun} in the {col} column{style}",
                   "{verb} {noun} of {col}{style}", "{verb} the {col} column's {noun2}{style}",
                   "in {col}, {verb} {noun}{style}", "{verb} rows with {noun} in {col}{style}",
                   "can you {verb} {noun} in {col}?", "{noun} in {col}{style}", "find {noun} in the {col} column",
                   "{verb} {noun} for {col}{style}", "show {noun} by {col}{style}",
                   "which rows have {noun} in {col}? {verb} them")
VISUAL_FRAMES = ("add {thing}{target}", "apply {thing}{target}", "use {thing}{target}", "put {thing}{target}",
                 "show {thing}{target}", "{thing}{target} please", "can you add {thing}{target}?",
                 "i want {thing}{target}", "how do i add {thing}{target}?", "give me {thing}{target}",
                 "format{target} with {thing}", "set {thing}{target}", "apply {thing} conditional formatting{target}",
                 "visualise the values{target} with {thing}", "create {thing}{target}",
                 "could you put {thing}{target}?", "display{target} as {thing}", "{thing}{target}",
                 "change{target} to {thing}", "add {thing}{target} so i can compare them")
VISUAL_TARGETS_CELL = ("", " to the values", " to the data", " to these cells", " to the numbers", " on the range",
                       " to the selected cells", " across the table")
VISUAL_TARGETS_COL = (" to {col}", " to the {col} column", " on {col}", " for {col}", " for the {col} values",
                      " in {col}", " to column {col}")

# ----------------------------------------------------------------------------------------------
# style and location clauses

COLOURS = ("red", "green", "yellow", "orange", "blue", "light red", "light green", "pink", "purple", "grey",
           "light blue", "gold", "dark red")
STYLE = (" in {colour}", " {colour}", " with a {colour} fill", " in bold", " bold", " with {colour} text",
         " with a {colour} background", " in bold {colour}", " using {colour}", " as {colour}",
         " with light red fill and dark red text", " in {colour} and bold", " with {colour} font",
         " in italics", " with a {colour} border", " {colour} fill", " to {colour}", " in {colour} colour",
         " in {colour} color", " and make them bold", " with {colour} shading")
STYLE_BARE = ("{colour}", "{colour} fill", "bold", "{colour} text", "bold {colour}", "{colour} background")
LOC = (" in column {letter}", " in {range}", " on sheet {sheet}", " on the {sheet} sheet", " in sheet {sheet}",
       " from {a1} to {a2}", " for cells {range}", " in range {range}", " in the selected range",
       " in this column", " on {sheet}", " in the table", " for {range} on {sheet}", " across the sheet",
       " in cells {a1}-{a2}", " within {range}", " in the {sheet} tab", " on {sheet} ({range})")
LOC_LEAD = ("in column {letter}, ", "on sheet {sheet}, ", "in {range}, ", "for the range {range}, ",
            "on the {sheet} tab ", "in sheet {sheet} ")


def verb_forms(verb: str) -> tuple[str, str]:
    """(-ing form, past participle) of a verb phrase, for frames such as 'apply ... to highlighting'."""
    head, _, rest = verb.partition(" ")
    irregular = {"show": ("showing", "shown"), "make": ("making", "made"), "set": ("setting", "set"),
                 "bold": ("bolding", "bolded"), "pick": ("picking", "picked"), "call": ("calling", "called"),
                 "shade": ("shading", "shaded"), "style": ("styling", "styled"), "tint": ("tinting", "tinted"),
                 "emphasise": ("emphasising", "emphasised"), "emphasize": ("emphasizing", "emphasized"),
                 "visually": ("visually flagging", "visually flagged"), "colour-code": ("colour-coding", "colour-coded")}
    if head in irregular:
        ing, ed = irregular[head]
        if head == "visually":
            return ing, ed
    else:
        stem = head[:-1] if head.endswith("e") else head
        ing, ed = stem + "ing", (head + "d" if head.endswith("e") else head + "ed")
    tail = (" " + rest) if rest and head != "visually" else ""
    return ing + tail, ed + tail


# ----------------------------------------------------------------------------------------------
# noise

_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip: a dropped, doubled, swapped or replaced letter (words of 4+ letters)."""
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        return word[:i] + word[i] + word[i:]
    if op == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice(_KEYBOARD) + word[i + 1:]


def add_noise(text: str, rng: random.Random, typo_rate: float) -> str:
    """Typos in template words only: literals are protected as «slot» markers until filled in."""
    parts = re.split(r"(«[^»]*»)", text)
    out = []
    for part in parts:
        if part.startswith("«"):
            out.append(part)
            continue
        words = part.split(" ")
        for i, w in enumerate(words):
            if rng.random() < typo_rate:
                words[i] = typo(w, rng)
        out.append(" ".join(words))
    return "".join(out)
