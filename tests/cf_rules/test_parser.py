"""Parser: every rule kind, aliases and case, literals, columns, formulas and error reports."""
import pytest
from lark import Tree

from cf_rules.syntax import CATALOGUE, ICON_SETS, Condition, Formula, Number, Percent, Text
from cf_rules.errors import RuleSyntaxError
from cf_rules.parser import grammar_names, is_valid, parse, parse_formula


def cond(name, *args, column=None):
    return Condition(name, column, tuple(args))


def num(text):
    return Number(float(text), text)


# ---- every rule kind -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("GreaterThan(5)", cond("GreaterThan", num("5"))),
    ("GreaterThanEqual(25)", cond("GreaterThanEqual", num("25"))),
    ("LessThan(8)", cond("LessThan", num("8"))),
    ("LessThanEqual(2.5)", cond("LessThanEqual", num("2.5"))),
    ("Equals(4)", cond("Equals", num("4"))),
    ("NotEquals(Done)", cond("NotEquals", Text("Done"))),
    ("Between(689, 927)", cond("Between", num("689"), num("927"))),
    ("NotBetween(1,2)", cond("NotBetween", num("1"), num("2"))),
    ("TextEquals(In Progress)", cond("TextEquals", Text("In Progress"))),
    ("TextContains(Error)", cond("TextContains", Text("Error"))),
    ("TextStartsWith(A)", cond("TextStartsWith", Text("A"))),
    ("TextEndsWith(.com)", cond("TextEndsWith", Text(".com"))),
    ("top(10)", cond("top", num("10"))),
    ("top(10%)", cond("top", Percent(num("10")))),
    ("bottom(3)", cond("bottom", num("3"))),
    ("bottom(5%)", cond("bottom", Percent(num("5")))),
    ("aboveAverage()", cond("aboveAverage")),
    ("belowAverage()", cond("belowAverage")),
    ("Duplicate()", cond("Duplicate")),
    ("Unique()", cond("Unique")),
    ("Blanks()", cond("Blanks")),
    ("Errors()", cond("Errors")),
    ("ColorScale()", cond("ColorScale")),
    ("ColorScale(white, green)", cond("ColorScale", Text("white"), Text("green"))),
    ("ColorScale(green, yellow, red)", cond("ColorScale", Text("green"), Text("yellow"), Text("red"))),
    ("ColorScale('#F8696B', \"#ffeb84\", #63be7b)",
     cond("ColorScale", Text("#F8696B"), Text("#FFEB84"), Text("#63BE7B"))),
    ("DataBar()", cond("DataBar")),
    ("DataBar(Blue)", cond("DataBar", Text("blue"))),
    ("IconSet()", cond("IconSet")),
    ("IconSet(3TrafficLights1)", cond("IconSet", Text("3TrafficLights1"))),
    ("AND(GreaterThanEqual(25),LessThan(50))",
     cond("AND", cond("GreaterThanEqual", num("25")), cond("LessThan", num("50")))),
    ("OR(TextEquals(p), TextEquals(ul))", cond("OR", cond("TextEquals", Text("p")), cond("TextEquals", Text("ul")))),
    ("NOT(Blanks())", cond("NOT", cond("Blanks"))),
])
def test_every_rule_kind(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("name", ["Today", "Yesterday", "Tomorrow", "Last7Days", "ThisWeek", "LastWeek",
                                  "NextWeek", "ThisMonth", "LastMonth", "NextMonth"])
def test_date_rules(name):
    assert parse(f"{name}()") == cond(name)
    assert parse(f"{name.lower()}( c[2] )") == cond(name, column=2)


def test_every_catalogue_kind_is_reachable():
    seen = set()
    for spelling in (s for kind in CATALOGUE.values() for s in (kind.name, *kind.aliases)):
        kind = CATALOGUE[spelling] if spelling in CATALOGUE else None
        family = (kind or next(k for k in CATALOGUE.values() if spelling in k.aliases)).family
        args = {"compare": "(1)", "text": "(x)", "logic": "(Blanks())"}.get(family, "()")
        if spelling in ("Between", "NotBetween"):
            args = "(1, 2)"
        seen.add(parse(spelling + args).name)
    # TopPercent/BottomPercent are read as top/bottom with a Percent
    assert seen == set(CATALOGUE) - {"TopPercent", "BottomPercent"}


def test_grammar_names_match_catalogue_exactly():
    in_grammar = sorted(s for names in grammar_names().values() for s in names)
    in_catalogue = sorted(s for kind in CATALOGUE.values() for s in (kind.name, *kind.aliases))
    assert in_grammar == in_catalogue


# ---- aliases and case --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Top(1)", cond("top", num("1"))),
    ("TOP(1)", cond("top", num("1"))),
    ("greaterthan(5)", cond("GreaterThan", num("5"))),
    ("GreaterThanOrEqual(5)", cond("GreaterThanEqual", num("5"))),
    ("StartsWith(A)", cond("TextStartsWith", Text("A"))),
    ("BeginsWith(A)", cond("TextStartsWith", Text("A"))),
    ("endswith(X)", cond("TextEndsWith", Text("X"))),
    ("Duplicates()", cond("Duplicate")),
    ("and(Blank(), or(Error()))", cond("AND", cond("Blanks"), cond("OR", cond("Errors")))),
    ("TopPercent(20)", cond("top", Percent(num("20")))),
    ("TopPercent(20%)", cond("top", Percent(num("20")))),
    ("BottomPercent(5)", cond("bottom", Percent(num("5")))),
    ("top()", cond("top", num("10"))),
    ("TopPercent()", cond("top", Percent(num("10")))),
    ("iconset(3arrows)", cond("IconSet", Text("3Arrows"))),
])
def test_aliases_and_case(text, expected):
    assert parse(text) == expected


def test_top_percent_equals_top_with_percent():
    assert parse("TopPercent(20)") == parse("top(20%)") == parse("top( 20 % )")
    assert parse("top()") == parse("top(10)")


def test_every_icon_set_is_accepted():
    for name in ICON_SETS:
        assert parse(f"IconSet({name})").args == (Text(name),)


# ---- literals ----------------------------------------------------------------------------------

def test_number_keeps_its_spelling():
    rule = parse("AND(GreaterThan(0),OR(LessThan(-5251.4737555988249),GreaterThan(14668.417877816035)))")
    low = rule.args[1].args[0].args[0]
    assert low.text == "-5251.4737555988249" and low.value == pytest.approx(-5251.4737555988249)


@pytest.mark.parametrize("spelled, value", [("1e5", 1e5), ("-2.5E-3", -2.5e-3), ("+7", 7.0), (".5", 0.5),
                                            ("007", 7.0), ("3.", 3.0)])
def test_number_forms(spelled, value):
    (arg,) = parse(f"GreaterThan({spelled})").args
    assert arg == Number(value, spelled)


def test_percent_in_comparison_is_a_number_quoted_percent_is_text():
    assert parse("LessThan(50%)").args == (Number(0.5, "50%"),)
    assert parse('Equals("0%")').args == (Text("0%"),)
    rule = parse('OR(LessThan(1),TextEquals("0%"))')
    assert rule.args[1].args == (Text("0%"),)
    assert parse("TextContains(60%)").args == (Text("60%"),)


@pytest.mark.parametrize("text, value", [
    ("TextContains(经济)", "经济"),
    ("NOT(TextEquals(情報は正しく入力されています))", None),
    ("TextEquals(Y(SH))", "Y(SH)"),
    ("TextEquals(+)", "+"),
    ("TextEquals(-)", "-"),
    ("TextEquals(=)", "="),
    ("TextEquals(N/A)", "N/A"),
    ("TextEquals(   In Progress   )", "In Progress"),
    ("TextContains(Non-pooled, en)", "Non-pooled, en"),
    ("TextContains(rich's)", "rich's"),
    ("TextContains(a (b (c (d))) e)", "a (b (c (d))) e"),
    ("TextEquals(165)", "165"),
    ("TextContains([EN 45545-2:2020])", "[EN 45545-2:2020]"),
    ("TextContains(asc.em-direct@dupont.com)", "asc.em-direct@dupont.com"),
])
def test_bare_text(text, value):
    rule = parse(text)
    leaf = rule.args[0] if rule.name == "NOT" else rule
    if value is not None:
        assert leaf.args == (Text(value),)
    else:
        assert leaf.args == (Text("情報は正しく入力されています"),)


@pytest.mark.parametrize("text, value", [
    ("TextEquals('a, b')", "a, b"),
    ('TextEquals("a, b")', "a, b"),
    ("TextEquals('it''s')", "it's"),
    ('TextEquals("say ""hi""")', 'say "hi"'),
    ('TextEquals("  padded ")', "  padded "),
    ('TextEquals("")', ""),
    ("TextEquals('a)b(')", "a)b("),
    ('TextEquals("c[0]")', "c[0]"),
])
def test_quoted_text(text, value):
    assert parse(text).args == (Text(value),)


def test_comparison_bare_argument_number_or_text():
    assert parse("Equals(5 apples)").args == (Text("5 apples"),)
    assert parse("Equals( 5 )").args == (num("5"),)
    assert parse("NotEquals(TRUE)").args == (Text("TRUE"),)
    assert parse("Equals('1,000')").args == (Text("1,000"),)
    assert not is_valid("Equals(1,000)")   # bare commas split arguments: two values for Equals


# ---- columns -----------------------------------------------------------------------------------

def test_columns():
    assert parse("GreaterThan(c[2], 4000)") == cond("GreaterThan", num("4000"), column=2)
    assert parse("Between(c[1], 1, 2)") == cond("Between", num("1"), num("2"), column=1)
    assert parse("top(c[3], 5%)") == cond("top", Percent(num("5")), column=3)
    assert parse("top(c[3])") == cond("top", num("10"), column=3)
    assert parse("Duplicate(c[0])") == cond("Duplicate", column=0)
    assert parse("ColorScale(c[1], white, red)") == cond("ColorScale", Text("white"), Text("red"), column=1)
    rule = parse("AND(StartsWith(c[0], 'A'), EndsWith(c[0], 'X'))")
    assert rule == cond("AND", cond("TextStartsWith", Text("A"), column=0), cond("TextEndsWith", Text("X"), column=0))


def test_text_that_looks_like_a_column_is_text_when_more_follows():
    assert parse("TextContains(c[1] total)").args == (Text("c[1] total"),)


def test_mixed_columns_is_an_error_with_a_hint():
    with pytest.raises(RuleSyntaxError) as err:
        parse("AND(GreaterThan(c[1], 5), LessThan(3))")
    assert err.value.position == 26
    assert "c[1]" in err.value.hint and "LessThan" in err.value.message


def test_logic_takes_no_column():
    with pytest.raises(RuleSyntaxError) as err:
        parse("AND(c[0], GreaterThan(5))")
    assert err.value.position == 4
    assert "each condition" in err.value.hint


# ---- formulas ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, formula", [
    ("=$A2=$A3", "$A2=$A3"),
    ('=AND($B2>100,$C2<"x")', 'AND($B2>100,$C2<"x")'),
    ("=ISBLANK(A1)", "ISBLANK(A1)"),
    ("  = SUM($A$1:$A$10) > 5 ", "SUM($A$1:$A$10) > 5"),
    ("=-A1^2 & \"%\"", "-A1^2 & \"%\""),
    ("=MOD(ROW(),2)=0", "MOD(ROW(),2)=0"),
    ("=A1<>#N/A", "A1<>#N/A"),
    ("=TRUE", "TRUE"),
])
def test_formula_rules(text, formula):
    assert parse(text) == Formula(formula)


def test_formula_tree_shape():
    tree = parse_formula('=AND($B2>100, $C2<"x")')
    assert tree == Tree("call", ["AND",
                                 Tree("binop", [Tree("cell", [2, 2, True, False]), ">", Tree("number", [100.0])]),
                                 Tree("binop", [Tree("cell", [3, 2, True, False]), "<", Tree("string", ["x"])])])


def test_formula_precedence_follows_excel():
    # unary minus binds tighter than ^, and & is looser than +
    assert parse_formula("-2^2") == Tree("binop", [Tree("neg", [Tree("number", [2.0])]), "^", Tree("number", [2.0])])
    tree = parse_formula('1+2&"x"')
    assert tree.data == "binop" and tree.children[1] == "&"
    assert parse_formula("1+2*3").children[2] == Tree("binop", [Tree("number", [2.0]), "*", Tree("number", [3.0])])
    assert parse_formula("A1=B1>2").children[0].children[1] == "="   # left-associative


def test_formula_leaves():
    assert parse_formula("$AA$10:B3") == Tree("range", [Tree("cell", [27, 10, True, True]),
                                                        Tree("cell", [2, 3, False, False])])
    assert parse_formula('"a""b"') == Tree("string", ['a"b'])
    assert parse_formula("false") == Tree("bool", [False])
    assert parse_formula("#div/0!") == Tree("error", ["#DIV/0!"])
    assert parse_formula("50%") == Tree("percent", [Tree("number", [50.0])])
    assert parse_formula("today()") == Tree("call", ["TODAY"])
    assert parse_formula("(1)") == Tree("number", [1.0])


@pytest.mark.parametrize("text, position", [("=A1>", 4), ("=SUM(A1", 7), ("=", 1), ("=A1 B1", 4), ("=XFE1", 1)])
def test_formula_errors(text, position):
    with pytest.raises(RuleSyntaxError) as err:
        parse(text)
    assert err.value.position == position


# ---- errors ------------------------------------------------------------------------------------

def test_unknown_name_lists_close_matches():
    with pytest.raises(RuleSyntaxError) as err:
        parse("GreaterThen(5)")
    assert err.value.position == 0
    assert "GreaterThen" in err.value.message and "GreaterThan" in err.value.hint

    with pytest.raises(RuleSyntaxError) as err:
        parse("AND(GreaterThan(5), TextContian(x))")
    assert err.value.position == 20 and "TextContains" in err.value.hint


def test_unclosed_paren_reports_end_and_expected_words():
    with pytest.raises(RuleSyntaxError) as err:
        parse("GreaterThan(5")
    assert err.value.position == 13
    assert err.value.expected == ["')'", "','"]
    assert "close" in err.value.hint


def test_errors_expect_human_words_not_terminal_names():
    with pytest.raises(RuleSyntaxError) as err:
        parse("TextEquals()")
    assert err.value.position == 11
    assert "a text" in err.value.expected and not any(w.isupper() for w in err.value.expected)
    assert '""' in err.value.hint


def test_office_script_fragment_does_not_parse():
    fragment = ('TextEquals(Male",formula2:undefined,operator:ExcelScript.ConditionalCellValueOperator.equalTo,});'
                ' conditionalFormatting.getCellValue().setRule({formula1:"=Male)')
    with pytest.raises(RuleSyntaxError) as err:
        parse(fragment)
    assert err.value.position == 15


@pytest.mark.parametrize("text, position, words", [
    ("", 0, "empty"),
    ("   ", 0, "empty"),
    ("Blanks() x", 9, "after the end"),
    ("Between(1)", 0, "2 argument"),
    ("NOT(Blanks(), Errors())", 0, "1 argument"),
    ("top(0)", 4, "whole number"),
    ("top(1.5)", 4, "whole number"),
    ("top(101%)", 4, "1 to 100"),
    ("ColorScale(red)", 11, "0, 2 or 3"),
    ("ColorScale(reddish, blue)", 11, "unknown colour"),
    ("IconSet(3Arrow)", 8, "unknown icon set"),
    ("DataBar(red, blue)", 0, "argument"),
    ("AND(ColorScale(), Blanks())", 4, "cannot be combined"),
    ("GreaterThan(LessThan(5))", 12, "cannot be the value"),
    ("GreaterThan 5", 0, "followed by '('"),
    ("TextContains(a(b)", 17, "unexpected"),
    ("AND()", 4, "unexpected"),
    ("Blanks(5)", 7, "unexpected"),
])
def test_error_positions(text, position, words):
    with pytest.raises(RuleSyntaxError) as err:
        parse(text)
    assert err.value.position == position
    assert words in err.value.message
    assert err.value.hint
    assert err.value.to_dict()["position"] == position


def test_is_valid():
    assert is_valid("TextEquals(Male)")
    assert not is_valid("TextEquals(Male")
    assert not is_valid("Nope()")


def test_parse_rejects_non_strings():
    with pytest.raises(TypeError):
        parse(None)


def test_too_deep_and_too_large_are_clear_errors():
    with pytest.raises(RuleSyntaxError) as err:
        parse("AND(" * 60 + "Blanks()" + ")" * 60)
    assert "nest" in err.value.message
    assert parse("NOT(" * 40 + "Blanks()" + ")" * 40).name == "NOT"
    for text in ("GreaterThan(1e400)", "=A1>1e999"):
        with pytest.raises(RuleSyntaxError) as err:
            parse(text)
        assert "too large" in err.value.message


def test_column_without_value_hint():
    with pytest.raises(RuleSyntaxError) as err:
        parse("TextEquals(c[0])")
    assert err.value.position == 15 and "c[0]" in err.value.hint


def test_packaged_grammar_is_the_repository_grammar():
    # cf_rules/cf_rules.lark (package data, the fallback) must be the same file
    from importlib import resources
    from pathlib import Path
    repo = Path(__file__).resolve().parents[2] / "grammar" / "cf_rules.lark"
    packaged = resources.files("cf_rules").joinpath("cf_rules.lark")
    assert packaged.read_text(encoding="utf-8") == repo.read_text(encoding="utf-8")
