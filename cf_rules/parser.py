"""Parse CF rule text into the AST of `cf_rules.syntax`.

    parse("AND(GreaterThanEqual(25), LessThan(50))")   -> Condition("AND", None, (...))
    parse("=$A2=$A3")                                   -> Formula("$A2=$A3")
    is_valid("GreaterThen(5)")                          -> False
    parse_formula("$A2>100")                            -> a lark.Tree (shape below)

The grammar lives in `grammar/cf_rules.lark` at the repository root (the source of truth).
`cf_rules/cf_rules.lark` is a symbolic link to it so an installed package (package-data)
carries the same file; `_grammar_text` reads the repository copy first and falls back to the
package copy.

Reading rules (documented for users in docs/rule_language.md):
  * names are case-insensitive; aliases become the canonical name from `ast.CATALOGUE`;
  * `TopPercent(20)` becomes `top(20%)` (Condition("top", args=(Percent(Number(20, "20")),))),
    `top()` becomes `top(10)` and `TopPercent()` `top(10%)`, so equal rules have equal ASTs;
  * comparison arguments: a bare number is a `Number` (text kept as written), a bare `50%` is
    `Number(0.5, "50%")` (Excel reads a typed 50% as 0.5), anything else is `Text`; a quoted
    argument is always `Text`, so `TextEquals("0%")` and `Equals("0%")` compare text;
  * text-rule arguments are always `Text`; bare text is trimmed and may contain commas;
  * quoted text uses '..' or ".." with the quote doubled inside ('it''s');
  * ColorScale/DataBar colours become lower-case names or upper-case '#RRGGBB' `Text`, IconSet
    names the spelling in `ast.ICON_SETS`.

Formula tree returned by `parse_formula` (children are plain Python values where noted):

    Tree('binop',   [left, op, right])    op: str, one of = <> < <= > >= & + - * / ^
    Tree('neg',     [x])                  unary minus   (binds tighter than ^, as in Excel)
    Tree('pos',     [x])                  unary plus
    Tree('percent', [x])                  postfix %: x / 100
    Tree('number',  [float])
    Tree('string',  [str])                quotes removed, "" unescaped to "
    Tree('bool',    [bool])
    Tree('error',   [str])                '#N/A', '#DIV/0!', ... upper case
    Tree('cell',    [col, row, col_absolute, row_absolute])   col and row 1-based ints, flags bool
    Tree('range',   [cell_tree, cell_tree])                    A1:B3
    Tree('call',    [NAME, *args])        NAME: str upper case, args: trees (may be none)

Parentheses leave no node. Binary operators are left-associative; precedence from loosest:
comparison, &, + -, * /, ^, unary - +, %. Which functions exist is the evaluator's business.
"""
from __future__ import annotations

import difflib
import functools
import math
import re
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Tree
from lark.visitors import Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import a1
from .syntax import CATALOGUE, COLOURS, ICON_SETS, Condition, Formula, Number, Percent, Rule, Text, canonical_name
from .errors import RuleSyntaxError

GRAMMAR_FILE = "cf_rules.lark"
_REPO_GRAMMAR = Path(__file__).resolve().parents[1] / "grammar" / GRAMMAR_FILE

MAX_DEPTH = 50   # nesting of AND/OR/NOT; deeper rules are refused with a clear error
GENERAL_HINT = ("rules look like GreaterThan(5), TextContains(done), top(10%), "
                "AND(GreaterThan(c[1], 5), StartsWith(c[0], A)) or =$A2>100; see docs/rule_language.md")


@functools.lru_cache(maxsize=None)
def _grammar_text() -> str:
    if _REPO_GRAMMAR.is_file():
        return _REPO_GRAMMAR.read_text(encoding="utf-8")
    return resources.files(__package__).joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=None)
def _lark() -> Lark:
    return Lark(_grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=True, start=["start", "formula"])


def grammar_names() -> dict[str, tuple[str, ...]]:
    """Rule-name spellings per name terminal, as the grammar lists them (for tests and docs)."""
    out = {}
    for term in _lark().terminals:
        if term.name.endswith("_NAME"):
            body = re.match(r"\((.*?)\)\(\?=", term.pattern.value).group(1)
            out[term.name] = tuple(body.split("|"))
    return out


@functools.lru_cache(maxsize=None)
def _terminal_regex(name: str) -> re.Pattern:
    term = next(t for t in _lark().terminals if t.name == name)
    return re.compile(term.pattern.to_regexp())


def bare_text_allowed(value: str, family: str) -> bool:
    """Whether `value` reads back as the same Text when written without quotes as the argument
    of a rule of `family` ('text' or 'compare'). The printer uses this to decide on quotes."""
    if not value or value != value.strip() or value[0] in "'\"":
        return False
    terminal = "BARE_TEXT" if family == "text" else "COMPARE_TEXT"
    if not _terminal_regex(terminal).fullmatch(value):
        return False
    if _terminal_regex("COLUMN").match(value + ")"):   # `c[0]` alone would read as a column
        return False
    if family == "compare":
        # NUMBER and PERCENT_NUMBER only match when the argument ends after them
        if any(_terminal_regex(t).match(value + ")") for t in ("NUMBER", "PERCENT_NUMBER")):
            return False
        if _looks_like_call(value):
            return False
    return True


def _looks_like_call(value: str) -> bool:
    match = re.match(r"\s*([A-Za-z_]\w*)\s*\(", value)
    return bool(match and canonical_name(match.group(1)))


# ---- public API ------------------------------------------------------------------------------

# Characters an XML 1.0 document cannot hold (C0 controls but tab/LF/CR, surrogates, U+FFFE/FFFF):
# a rule holding one could be previewed but never written into a workbook.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _check_characters(text: str, rule: str | None = None, offset: int = 0) -> None:
    bad = _NOT_XML.search(text)
    if bad:
        position = offset + bad.start()
        raise RuleSyntaxError(f"the rule holds the character U+{ord(bad.group()):04X}, which a workbook cannot "
                              f"store, at position {position}", rule=rule if rule is not None else text,
                              position=position, expected=["a printable character"],
                              hint="remove control characters (and unpaired surrogates) from the rule's text")


def parse(text: str) -> Rule:
    """Parse one rule. Raises RuleSyntaxError (0-based position, expected, hint) if it does not."""
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, got {type(text).__name__}")
    _check_characters(text)
    if not text.strip():
        raise RuleSyntaxError("empty rule at position 0: expected a rule name or '=' and a formula",
                              rule=text, position=0, expected=["a rule name", "'=' and a formula"],
                              hint=GENERAL_HINT)
    try:
        tree = _lark().parse(text, start="start")
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    try:
        return _Builder(text).rule(tree.children[0])
    except RecursionError:
        raise _too_deep(text) from None


def is_valid(text: str) -> bool:
    """True when `text` parses as a rule."""
    try:
        parse(text)
    except RuleSyntaxError:
        return False
    return True


def parse_formula(text: str) -> Tree:
    """Parse an Excel formula (with or without its leading '=') into the tree documented above."""
    _check_characters(text)
    body = text.strip()
    offset = len(text) - len(text.lstrip())
    if body.startswith("="):
        body, offset = body[1:], offset + 1
    if not body.strip():
        raise RuleSyntaxError(f"empty formula at position {offset}: expected an Excel formula after '='",
                              rule=text, position=offset, expected=["a formula"],
                              hint="write a formula such as =$A2>100 or =ISBLANK(A1)")
    try:
        raw = _lark().parse(body, start="formula")
    except UnexpectedInput as exc:
        raise _syntax_error(body, exc, offset=offset, rule=text) from None
    try:
        return _FormulaCleaner(text, offset).transform(raw)
    except VisitError as exc:
        raise exc.orig_exc from None
    except RecursionError:
        raise _too_deep(text) from None


def _too_deep(text: str) -> RuleSyntaxError:
    return RuleSyntaxError("the rule is nested too deeply to read (at position 0)", rule=text, position=0,
                           hint=f"nest AND/OR/NOT and formula parentheses at most {MAX_DEPTH} levels deep")


# ---- tree -> AST -----------------------------------------------------------------------------

_COLUMN_DIGITS = re.compile(r"\d+")
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _unquote(token: str) -> str:
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote)


class _Builder:
    """Walks the Lark tree of one rule and builds frozen AST nodes, checking what the grammar
    cannot: arity, rank sizes, colours and icon sets, and the all-or-none column rule."""

    def __init__(self, text: str):
        self.text = text
        self.leaves: list[tuple[Condition, int]] = []   # (leaf condition, its position)

    def error(self, position: int, message: str, hint: str | None = None, expected=None) -> RuleSyntaxError:
        return RuleSyntaxError(f"{message} (at position {position})", rule=self.text, position=position,
                               expected=expected, hint=hint)

    def rule(self, tree: Tree) -> Rule:
        if tree.data == "formula_rule":
            start = tree.meta.start_pos
            formula = self.text[start + 1:tree.meta.end_pos].strip()
            parse_formula(self.text[start:tree.meta.end_pos])   # validates cell references
            return Formula(formula)
        rule = self.condition(tree)
        self.check_columns()
        return rule

    def condition(self, tree: Tree, depth: int = 0) -> Condition:
        if depth > MAX_DEPTH:
            raise self.error(tree.meta.start_pos, f"rules nest more than {MAX_DEPTH} levels deep",
                             hint="flatten the rule: AND and OR take any number of conditions")
        self.depth = depth
        name_token = tree.children[0]
        name = canonical_name(name_token.value)
        build = getattr(self, tree.data)
        condition = build(name, name_token, tree.children[1:], tree)
        if tree.data != "logic_call":
            self.leaves.append((condition, tree.meta.start_pos))
        return condition

    def column(self, tree: Tree | None) -> int | None:
        if tree is None:
            return None
        return int(_COLUMN_DIGITS.search(tree.children[0].value).group())

    def check_arity(self, name: str, got: int, tree: Tree):
        kind = CATALOGUE[name]
        low, high = kind.min_args, kind.max_args
        if got < low or (high is not None and got > high):
            wanted = str(low) if low == high else (f"{low} to {high}" if high is not None else f"at least {low}")
            raise self.error(tree.meta.start_pos, f"{name} takes {wanted} argument{'' if wanted == '1' else 's'}, got {got}",
                             hint=f"for example {_EXAMPLES.get(name, name + '()')}")

    # -- one method per grammar rule --

    def compare_call(self, name, name_token, children, tree):
        column_tree, *arg_trees = children
        args = tuple(self.compare_arg(arg.children[0]) for arg in arg_trees)
        self.check_arity(name, len(args), tree)
        return Condition(name, self.column(column_tree), args)

    def compare_arg(self, token: Token):
        if token.type in ("NUMBER", "PERCENT_NUMBER"):
            spelled = token.value.replace(" ", "").replace("\t", "")
            value = float(spelled[:-1]) / 100 if spelled.endswith("%") else float(spelled)
            if not math.isfinite(value):
                raise self.error(token.start_pos, f"the number {spelled} is too large",
                                 hint="Excel numbers stay below 1e308")
            return Number(value, spelled)
        if token.type == "STRING":
            return Text(_unquote(token.value))
        value = token.value.strip()
        if _looks_like_call(value):
            raise self.error(token.start_pos, f"a rule ({value}) cannot be the value of a comparison",
                             hint="combine rules with AND(...), OR(...) or NOT(...); quote the value if it is text")
        return Text(value)

    def text_call(self, name, name_token, children, tree):
        column_tree, arg = children
        token = arg.children[0]
        value = _unquote(token.value) if token.type == "STRING" else token.value.strip()
        return Condition(name, self.column(column_tree), (Text(value),))

    def rank_call(self, name, name_token, children, tree):
        (args_tree,) = children
        column, arg_token = None, None
        if args_tree is not None:
            if args_tree.children[0].data == "column":
                column = self.column(args_tree.children[0])
                if len(args_tree.children) > 1 and args_tree.children[1] is not None:
                    arg_token = args_tree.children[1].children[0]
            else:
                arg_token = args_tree.children[0].children[0]
        as_percent = name in ("TopPercent", "BottomPercent")
        base = "top" if name in ("top", "TopPercent") else "bottom"
        if arg_token is None:
            amount, percent = Number(10.0, "10"), as_percent
        else:
            spelled = arg_token.value.replace(" ", "").replace("\t", "")
            percent = as_percent or spelled.endswith("%")
            digits = spelled.rstrip("%")
            amount = Number(float(digits), digits)
            if not amount.value.is_integer() or amount.value < 1 or (percent and amount.value > 100) \
                    or amount.value > 1000:
                limit = "1 to 100" if percent else "1 to 1000"
                raise self.error(arg_token.start_pos, f"{name} needs a whole number from {limit}, got {spelled}",
                                 hint=f"for example {base}(10) or {base}(10%)")
        return Condition(base, column, (Percent(amount),) if percent else (amount,))

    def plain_call(self, name, name_token, children, tree):
        return Condition(name, self.column(children[0]), ())

    def visual_call(self, name, name_token, children, tree):
        (args_tree,) = children
        column, words = None, []
        for child in args_tree.children if args_tree is not None else ():
            if child.data == "column":
                column = self.column(child)
            else:
                words.append(child.children[0])
        self.check_arity(name, len(words), tree)
        if name == "ColorScale" and len(words) == 1:
            raise self.error(words[0].start_pos, "ColorScale takes 0, 2 or 3 colours, got 1",
                             hint="for example ColorScale(white, green) or ColorScale(green, yellow, red)")
        check = self.icon_set if name == "IconSet" else self.colour
        return Condition(name, column, tuple(check(word) for word in words))

    def colour(self, token: Token) -> Text:
        word = _unquote(token.value) if token.type == "STRING" else token.value
        if _HEX_COLOUR.fullmatch(word):
            return Text(word.upper())
        if word.lower() in COLOURS:
            return Text(word.lower())
        close = difflib.get_close_matches(word.lower(), list(COLOURS), n=3)
        raise self.error(token.start_pos, f"unknown colour {word!r}",
                         hint=(f"did you mean {', '.join(close)}? " if close else "")
                         + "use a name (" + ", ".join(list(COLOURS)[:6]) + ", ...) or '#RRGGBB'")

    def icon_set(self, token: Token) -> Text:
        word = _unquote(token.value) if token.type == "STRING" else token.value
        for known in ICON_SETS:
            if known.lower() == word.lower():
                return Text(known)
        close = difflib.get_close_matches(word, ICON_SETS, n=3)
        raise self.error(token.start_pos, f"unknown icon set {word!r}",
                         hint=(f"did you mean {', '.join(close)}? " if close else "")
                         + "Excel's icon sets: " + ", ".join(ICON_SETS))

    def logic_call(self, name, name_token, children, tree):
        parts = []
        depth = self.depth
        for child in children:
            part = self.condition(child, depth + 1)
            if CATALOGUE[part.name].family == "visual":
                raise self.error(child.meta.start_pos, f"{part.name} cannot be combined inside {name}",
                                 hint=f"a visual rule ({part.name}) stands alone; apply it as its own rule")
            parts.append(part)
        self.check_arity(name, len(parts), tree)
        return Condition(name, None, tuple(parts))

    def check_columns(self):
        with_column = [(c, p) for c, p in self.leaves if c.column is not None]
        without = [(c, p) for c, p in self.leaves if c.column is None]
        if with_column and without:
            named, _ = with_column[0]
            bare, position = without[0]
            raise self.error(position, f"{bare.name} names no column while {named.name} names "
                                       f"c[{named.column}]: every condition must name a column, or none",
                             hint=f"add the column to every condition, e.g. {bare.name}(c[{named.column}], ...), "
                                  "or remove c[i] everywhere")


_EXAMPLES = {
    "Between": "Between(10, 20)", "NotBetween": "NotBetween(10, 20)", "AND": "AND(GreaterThan(1), LessThan(9))",
    "OR": "OR(LessThan(1), GreaterThan(9))", "NOT": "NOT(Blanks())", "ColorScale": "ColorScale(green, yellow, red)",
    "DataBar": "DataBar(blue)", "IconSet": "IconSet(3Arrows)",
}
for _name, _kind in CATALOGUE.items():
    if _kind.family == "compare":
        _EXAMPLES.setdefault(_name, f"{_name}(5)")


# ---- formula tree cleaning -------------------------------------------------------------------

_CELL_PARTS = re.compile(r"(\$?)([A-Za-z]+)(\$?)(\d+)")


class _FormulaCleaner(Transformer_NonRecursive):
    """Turns the raw Lark formula tree (tokens) into the documented shape (plain values); without
    recursion, because a flat chain of operators (A2+A2+...) is a tree as deep as it is long."""

    def __init__(self, rule: str, offset: int):
        super().__init__()
        self.rule_text, self.offset = rule, offset

    def number(self, children):
        value = float(children[0].value)
        if not math.isfinite(value):
            position = self.offset + children[0].start_pos
            raise RuleSyntaxError(f"the number {children[0].value} is too large (at position {position})",
                                  rule=self.rule_text, position=position, hint="Excel numbers stay below 1e308")
        return Tree("number", [value])

    def string(self, children):
        return Tree("string", [_unquote(children[0].value)])

    def bool(self, children):
        return Tree("bool", [children[0].value.upper() == "TRUE"])

    def error(self, children):
        return Tree("error", [children[0].value.upper()])

    def cell(self, children):
        token = children[0]
        col_abs, letters, row_abs, digits = _CELL_PARTS.fullmatch(token.value).groups()
        col, row = a1.column_index(letters), int(digits)
        if not a1.in_grid(row, col):
            position = self.offset + token.start_pos
            raise RuleSyntaxError(f"cell {token.value} is outside the sheet at position {position}",
                                  rule=self.rule_text, position=position, expected=["a cell reference like A1"],
                                  hint=f"columns run A..XFD and rows 1..{a1.MAX_ROWS}")
        return Tree("cell", [col, row, col_abs == "$", row_abs == "$"])

    def range(self, children):
        first, _colon, last = children
        return Tree("range", [self.cell([first]), self.cell([last])])

    def call(self, children):
        name, args = children
        return Tree("call", [name.value.upper(), *(args or [])])

    def f_args(self, children):
        return list(children)

    def binop(self, children):
        left, op, right = children
        return Tree("binop", [left, op.value, right])

    def neg(self, children):
        return Tree("neg", [children[-1]])

    def pos(self, children):
        return Tree("pos", [children[-1]])

    def percent(self, children):
        return Tree("percent", [children[0]])


# ---- Lark errors -> RuleSyntaxError ------------------------------------------------------------

_WORDS = {
    "COMPARE_NAME": "a rule name", "TEXT_NAME": "a rule name", "RANK_NAME": "a rule name",
    "PLAIN_NAME": "a rule name", "VISUAL_NAME": "a rule name", "LOGIC_NAME": "a rule name",
    "EQUAL": "'=' and a formula", "LPAR": "'('", "RPAR": "')'", "COMMA": "','",
    "COLUMN": "a column like c[0]", "NUMBER": "a number", "PERCENT_NUMBER": "a percentage like 10%",
    "STRING": "a quoted text", "BARE_TEXT": "a text", "COMPARE_TEXT": "a text",
    "VISUAL_WORD": "a colour or icon-set name",
    "FUNC": "a function call", "BOOL": "TRUE or FALSE", "CELL": "a cell reference like A1",
    "F_NUMBER": "a number", "F_STRING": "a quoted text", "F_ERROR": "an error value like #N/A",
    "COMP_OP": "a comparison (= <> < <= > >=)", "AMP": "an operator", "PLUS": "'+'",
    "MINUS": "'-'", "STAR": "an operator", "SLASH": "an operator", "CARET": "an operator",
    "PCT": "'%'", "COLON": "':'", "$END": "the end of the rule",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALL_SPELLINGS = sorted({s for k in CATALOGUE.values() for s in (k.name, *k.aliases)})


def _syntax_error(text: str, exc: UnexpectedInput, *, offset: int = 0, rule: str | None = None) -> RuleSyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        local, names = exc.pos_in_stream, set(exc.allowed or ())
    elif isinstance(exc, UnexpectedToken):
        local = len(text) if exc.token.type == "$END" else exc.token.start_pos
        names = set(exc.expected or ())
    else:  # UnexpectedEOF and the like
        local, names = len(text), set(getattr(exc, "expected", ()) or ())
    names.discard("WS")
    expected = sorted({_WORDS.get(n, n.lower()) for n in names})
    position = offset + local
    rest = text[local:]
    found = "the end of the rule" if not rest.strip() else repr(rest[:12] + ("..." if len(rest) > 12 else ""))
    message = f"unexpected {found} at position {position}"
    if expected:
        message += ": expected " + _or_list(expected)
    hint = GENERAL_HINT
    word = _IDENTIFIER.match(rest)
    wants_name = any(n.endswith("_NAME") for n in names)
    if rest.strip() and local > 0 and _complete(text[:local], "formula" if rule is not None else "start"):
        # the contextual lexer reports the follow set of the last call; the rule itself was done
        message = f"unexpected {found} after the end of the rule at position {position}"
        expected = ["the end of the rule"]
        hint = "remove the text after the end of the rule (one rule per line)"
    elif wants_name and re.match(r"[cC]\[", rest):
        hint = ("AND, OR and NOT take no column: put c[i] in each condition, "
                "e.g. AND(GreaterThan(c[1], 5), LessThan(c[1], 9))")
    elif wants_name and word:
        spelled = word.group()
        if canonical_name(spelled):
            message = f"{spelled} at position {position} must be followed by '('"
            hint = f"write {canonical_name(spelled)}(...)"
        else:
            close = difflib.get_close_matches(spelled.lower(), [s.lower() for s in _ALL_SPELLINGS], n=3, cutoff=0.6)
            close = list(dict.fromkeys(canonical_name(c) for c in close))
            message = f"unknown rule {spelled!r} at position {position}"
            hint = (f"did you mean {' or '.join(close)}?" if close
                    else "known rules: " + ", ".join(CATALOGUE))
    elif names == {"COMMA"} and re.search(r"[cC]\[\s*\d+\s*\]\s*$", text[:local]):
        hint = "give the value after the column, e.g. TextEquals(c[0], Done); quote \"c[0]\" to mean that text"
    elif rest.lstrip().startswith(")") and "BARE_TEXT" in names:
        hint = 'give the text to look for; write "" for empty text, or use Blanks() for empty cells'
    elif rest.lstrip().startswith(")") and wants_name:
        hint = "AND, OR and NOT need at least one condition inside"
    elif not rest.strip():
        hint = "the rule ends too early: give every argument and close every '(' with ')'"
    elif rest.startswith('"') or ('"' in rest.split(")")[0] and "STRING" in names):
        hint = 'quote the whole text, doubling quotes inside it: "say ""hi"""'
    return RuleSyntaxError(message, rule=rule if rule is not None else text, position=position,
                           expected=expected, hint=hint)


def _complete(prefix: str, start: str) -> bool:
    """Whether `prefix` alone parses (so what follows it is surplus)."""
    try:
        _lark().parse(prefix, start=start)
    except UnexpectedInput:
        return False
    return True


def _or_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
