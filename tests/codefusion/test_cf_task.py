"""The CF task adapter (codefusion/tasks/cf/adapter.py): source text, training pairs, postprocessing."""
import random

import pytest

from cf_rules.parser import is_valid
from codefusion.data import Record
from codefusion.tasks import get_task
from codefusion.tasks.cf.adapter import CFTask, describe_table, repair

TABLE = [["Region", "Sales", "Date"], ["North", 120, "2024-01-03"], ["South", 900, "2024-02-01"],
         ["North", 480, ""], ["East", 1500, "2024-03-09"], ["West", 40, "2024-03-10"]]


def model_codes(out):
    """The candidates read from the model's codes, without the siblings that fill k (tasks/cf/adapter.py `siblings`)."""
    return [c.code for c in out if not c.sibling]


@pytest.fixture(scope="module")
def task():
    return get_task("cf")


def test_registered_adapter_is_the_full_one(task):
    assert isinstance(task, CFTask)


def test_source_text_with_and_without_table(task):
    assert task.source_text("highlight duplicates") == "highlight duplicates"
    src = task.source_text("highlight rows where sales < $800", TABLE)
    assert src == ("highlight rows where sales < <NUM0> | columns: c0 Region (text: North, South), "
                   "c1 Sales (number), c2 Date (date)")


def test_describe_table_prefers_values_the_request_names():
    assert "text: West, North" in describe_table(TABLE, "rows where region is west")


def test_training_pair_masks_source_and_target_together(task):
    rec = Record(1, "Color cells that have value between 2085 and 2305", "Between(2085, 2305)",
                 [["Index", "Value"], [0, "2100"]])
    assert task.training_source(rec).startswith("Color cells that have value between <NUM0> and <NUM1> |")
    assert task.training_target(rec) == "Between(<NUM0>, <NUM1>)"
    # the core builds pairs as (training_source(r), target_code(r.code)): the same masking applies
    assert task.target_code(rec.code) == "Between(<NUM0>, <NUM1>)"
    # a gold that is not a rule is kept as written
    assert task.target_code("not a rule ((") == "not a rule (("


def test_postprocess_restores_repairs_and_merges(task):
    request = "highlight rows where sales < $800"
    codes = ["LessThan(c[1], <NUM0>)", "LessThan(c[1], <NUM0>", "LessThan(c[1], 800)) trailing",
             "LessThan(c[1], 799)", "GreaterThan(<NUM4>)", "###"]
    out = task.postprocess(codes, [-1.0, -0.5, -0.7, -0.2, 0.0, 0.0], request, TABLE)
    assert model_codes(out) == ["LessThan(c[1], 800)"]     # 799 formats the same cells: merged
    assert out[0].score > -0.2                                    # best score plus agreement


def test_postprocess_without_table_merges_by_canonical_form(task):
    out = task.postprocess(["greaterthan(5)", "GreaterThan(5)", "LessThan(5)"], [0.1, 0.2, 0.5], "values over 5")
    assert model_codes(out)[0:2] in (["GreaterThan(5)", "LessThan(5)"], ["LessThan(5)", "GreaterThan(5)"])
    assert len(model_codes(out)) == 2


def test_rules_that_format_nothing_or_everything_are_demoted(task):
    out = task.postprocess(["GreaterThan(c[1], 100000)", "GreaterThan(c[1], 0)", "GreaterThan(c[1], 500)"],
                           [0.9, 0.8, 0.1], "rows with sales over 500", TABLE)
    assert out[0].code == "GreaterThan(c[1], 500)"


def test_visual_rules_with_different_colours_stay_apart(task):
    out = task.postprocess(["ColorScale(c[1])", "ColorScale(c[1], white, green)"], [0, 0], "colour scale on sales", TABLE)
    assert len(model_codes(out)) == 2


def test_every_returned_candidate_parses_on_garbage(task):
    rng = random.Random(0)
    alphabet = "()[],%<>\"' abcTextEqualsGreaterThanc0123456789NUMSTR"
    for _ in range(300):
        codes = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(5)]
        codes += ["TextEquals(<STR0>", "top(<NUM0>%", "AND(GreaterThan(5), LessThan(<NUM0>)", "c[1]"]
        out = task.postprocess(codes, [rng.random() for _ in codes], "mark values under 40 that say 'x, y'", TABLE)
        assert all(is_valid(c.code) for c in out)


def test_near_misses_are_repaired():
    assert repair("GreaterThan(5") == "GreaterThan(5)"
    assert repair("Between(1, 2,)") == "Between(1, 2)"
    assert repair("top(10%)) )") == "top(10%)"
    assert repair("NOT(Blanks(") == "NOT(Blanks())"
    assert repair("LessThan(c[1, 5)") == "LessThan(c[1, 5)"     # not guessed: the parser rejects it


def test_fallback_reads_keywords_when_no_candidate_is_valid(task):
    out = task.postprocess(["(((", ""], [0.0, -1.0], "highlight values greater than 2305")
    assert model_codes(out) == ["GreaterThan(2305)"]
    assert out[0].score < -1.0
    assert task.postprocess(["((("], [0.0], "please do the thing") == []


def test_unicode_literal_round_trip(task):
    out = task.postprocess(["TextEquals(<STR0>)"], [0.0], "Color cells that have value equal to 選必",
                           [["Index", "Value"], [0, "選必"], [1, "必修"], [2, "選必"], [3, "x"]])
    assert model_codes(out) == ["TextEquals(選必)"]


def test_text_with_comma_is_quoted_on_restore(task):
    out = task.postprocess(["TextContains(<STR0>)"], [0.0], 'mark cells that contain "Non-pooled, en"')
    assert len(model_codes(out)) == 1 and is_valid(out[0].code) and "Non-pooled, en" in out[0].code


def test_extra_training_pairs_use_train_split_only(tmp_path):
    import json
    from codefusion.data import is_dev
    def tag(i):       # a letters-only name per record, so the masked source still says which it is
        return "rec" + "".join(chr(97 + int(d)) for d in str(i))

    records = [{"ID": i, "NL Utterance": f"values over {100 + i} {tag(i)}", "Code": f"GreaterThan({100 + i})",
                "Data": [["Index", "Value"], [0, "5"]], "Labels": [0]} for i in range(1, 41)]
    records.append({"ID": 99, "NL Utterance": "junk", "Code": "not a rule ((", "Data": None, "Labels": None})
    folder = tmp_path / "codefusion" / "train"
    folder.mkdir(parents=True)
    (folder / "cf_train.json").write_text(json.dumps(records), encoding="utf-8")
    task = CFTask()
    task.synthetic_triples = 20
    pairs = task.extra_training_pairs(tmp_path)
    real = [p for p in pairs if p[0].startswith("values over")]
    train_ids = [i for i in range(1, 41) if not is_dev("cf", i)]
    assert len(real) == len(train_ids) * task.real_record_copies
    assert all(target == "GreaterThan(<NUM0>)" for _, target in real)
    assert {s.split()[3] for s, _ in real} == {tag(i) for i in train_ids}       # no dev record
    assert len(pairs) - len(real) == 20


def test_decoding_debris_is_dropped_but_real_text_rules_stay():
    task = get_task("cf")
    ranked = task.postprocess(["LessThan(c[])", "LessThan(LessThan)", "TextContains(Error)", "LessThan(<NUM0>)"],
                              [-0.1, -0.2, -0.3, -0.4], "highlight values below 500 or containing Error")
    rules = [c.code for c in ranked]
    assert "TextContains(Error)" in rules and "LessThan(500)" in rules
    assert not any("c[]" in r or r == "LessThan(LessThan)" for r in rules)


def test_literals_with_brackets_the_request_lacks_are_debris():
    """Brackets belong to c[i] in the rule language: `GreaterThan(250[])` or `TextContains(Osaka[])` is
    a column reference glued to a literal. A literal that brings its brackets from the request stays."""
    task = get_task("cf")
    ranked = task.postprocess(["GreaterThan(<NUM0>[])", "TextContains(Osaka[])", "GreaterThan(<NUM0>)"],
                              [-0.1, -0.2, -0.3], "fill records whose Signups is more than 250 or contain Osaka")
    assert model_codes(ranked) == ["GreaterThan(250)"]
    kept = task.postprocess(["TextContains(<STR0>)"], [-0.1], 'mark cells that contain "[urgent]"')
    assert model_codes(kept) == ["TextContains([urgent])"]


def test_stream_frames_show_the_requests_literals():
    assert get_task("cf").display_codes(["LessThan(<NUM0>)", "junk("], "highlight values below 500") == \
        ["LessThan(500)", "junk("]


def test_swap_variants_rank_after_sampled_codes_even_when_the_sample_formats_nothing(task):
    # the sampled rule formats no row of TABLE (tier 1), the variant formats some (tier 0): the sample stays first
    out = task.postprocess(["GreaterThan(c[1], 100000)", "LessThan(c[1], 100000)"], [0.1, 0.9],
                           "rows with sales over 100000", TABLE, drawn=[True, False])
    assert model_codes(out) == ["GreaterThan(c[1], 100000)", "LessThan(c[1], 100000)"]


@pytest.mark.parametrize("debris", ["Between(5, ])", "LessThan(c)", "GreaterThan(c[])"])
def test_comparisons_with_debris_literals_are_dropped(task, debris):
    assert task.postprocess([debris, "LessThan(5)"], [0.9, 0.1], "values under 5") == \
        [c for c in task.postprocess(["LessThan(5)"], [0.1], "values under 5")]
    assert model_codes(task.postprocess(["TextEquals(c)"], [0.0], "cells that say c")) == ["TextEquals(c)"]


def test_mentioned_columns_match_whole_header_names_and_prefer_the_longer():
    from cf_rules.table import Table
    from codefusion.tasks.cf.adapter import column_mentions

    def mentioned_columns(request, table):
        return set(column_mentions(request, table))
    table = Table(["Time", "Time on Page", "Rating", "ID"], [])
    assert mentioned_columns("fill the highest value in time on page", table) == {1}
    assert mentioned_columns("bottom 5% in RATING, and the time", table) == {0, 2}
    assert mentioned_columns("ratings over 3", table) == set()          # whole words only
    assert mentioned_columns("anything", None) == set()


def test_a_rule_on_a_column_the_request_names_ranks_first(task):
    # the model preferred the Units column (both rules run and format some rows); the request names Sales
    table = [["Units", "Sales"], [5, 120], [50, 900], [1, 480], [30, 1500], [7, 40]]
    out = task.postprocess(["GreaterThan(c[0], 10)", "GreaterThan(c[1], 100)"], [0.9, 0.1],
                           "rows where Sales is over 100", table)
    # the Units rule is moved to Sales, and its "10" (the request's 100 cut short) is the request's number
    assert out[0].code == "GreaterThan(c[1], 100)"
    assert not any("c[0]" in c.code or ", 10)" in c.code for c in out)


GROUNDING_TABLE = [["Region", "Age", "Sales"], ["North", 31, 120], ["South", 45, 900], ["East", 22, 480],
                   ["West", 60, 1500], ["North", 38, 40]]


@pytest.mark.parametrize("decoded", ["LessThan(c[2], 42)", "LessThan(42)", "LessThan(c[c], 42)", "LessThan(c[], 42)"])
def test_a_rule_is_grounded_on_the_one_column_the_request_names(task, decoded):
    # the model wrote the right comparison on the wrong column, on no column, or on a column without its index
    out = task.postprocess([decoded], [0.0], "fill each row for which Age is below 42", GROUNDING_TABLE)
    assert out[0].code == "LessThan(c[1], 42)"


def test_grounding_keeps_the_models_column_when_the_request_names_none(task):
    # two numeric columns, neither named: the model's choice leads, the other column's reading follows
    out = task.postprocess(["LessThan(c[2], 42)"], [0.0], "fill rows below 42", GROUNDING_TABLE)
    assert out[0].code == "LessThan(c[2], 42)"
    assert "LessThan(c[1], 42)" in model_codes(out)


def test_naming_the_only_column_of_the_range_keeps_the_cell_rule(task):
    # the benchmark's Index/Value tables: "values" there is the selected range itself, not a row condition
    table = [["Index", "Value"], [1, 5], [2, 50], [3, 500], [4, 7]]
    out = task.postprocess(["GreaterThan(10)"], [0.0], "highlight cells where value is over 10", table)
    assert model_codes(out) == ["GreaterThan(10)"]


def test_ground_and_flip_connective_rewrite_the_ast():
    from codefusion.tasks.cf.adapter import flip_connective, ground
    assert ground("AND(GreaterThan(5), LessThan(9))", 2) == "AND(GreaterThan(c[2], 5), LessThan(c[2], 9))"
    assert ground("top(c[0], 3)", 2) == "top(c[2], 3)"
    assert ground("top(c[2], 3)", 2) is None                           # already there
    assert ground("AND(TextEquals(c[0], A), GreaterThan(c[1], 5))", 2) is None   # two columns: unclear
    assert ground("GreaterThan(5)", 2, bind_cell_rules=False) is None
    assert flip_connective("AND(LessThan(30), GreaterThan(56))") == "OR(LessThan(30), GreaterThan(56))"
    assert flip_connective("OR(TextEquals(a), TextEquals(b))") == "AND(TextEquals(a), TextEquals(b))"
    assert flip_connective("NOT(Blanks())") is None and flip_connective("LessThan(3)") is None


def test_an_and_that_can_never_hold_yields_to_its_or_reading(task):
    # "under 50 or over 70" read as AND formats nothing; its OR flip is offered and ranks above it
    table = [["Value"], [10], [55], [60], [90], [45]]
    out = task.postprocess(["AND(LessThan(50), GreaterThan(70))"], [0.0], "cells under 50 or over 70", table)
    assert model_codes(out) == ["OR(LessThan(50), GreaterThan(70))", "AND(LessThan(50), GreaterThan(70))"]


def test_a_flip_adds_no_vote(task):
    # two draws agree on the AND; the flip of a third draw's OR must not outvote them
    table = [["Value"], [10], [55], [60], [90], [45]]
    out = task.postprocess(["AND(GreaterThan(40), LessThan(80))", "AND(GreaterThan(40), LessThan(80))",
                            "OR(GreaterThan(40), LessThan(80))"], [0.0, 0.0, 0.0], "values 40 to 80", table)
    assert out[0].code == "AND(GreaterThan(40), LessThan(80))"


@pytest.mark.parametrize("code, redundant", [
    ("AND(LessThan(30), LessThanEqual(56))", True),      # just LessThan(30): a misread "less than 30 or more than 56"
    ("OR(LessThan(50%), LessThanEqual(100%))", True),
    ("AND(GreaterThan(5), GreaterThanEqual(5))", True),
    ("OR(LessThan(30), GreaterThan(56))", False),
    ("AND(GreaterThanEqual(30), LessThanEqual(56))", False),
    ("AND(LessThan(c[0], 30), LessThanEqual(c[1], 56))", False),   # different columns
    ("OR(LessThan(30%), GreaterThan(0.5))", False),                # 30% is 0.3
])
def test_redundant_conjunctions_are_recognised_from_their_literals(code, redundant):
    from cf_rules.parser import parse
    from codefusion.tasks.cf.adapter import _redundant
    assert _redundant(parse(code)) is redundant


def test_single_argument_logic_is_unwrapped(task):
    assert model_codes(task.postprocess(["AND(GreaterThanEqual(7000))"], [0.0], "7,000 or more")) == \
        ["GreaterThanEqual(7000)"]


def test_two_named_columns_ground_the_conditions_in_request_order(task):
    table = [["Channel", "URL", "Visits"], ["Social", "/blog/intro", 5], ["Email", "/home", 9],
             ["Social", "/pricing", 3], ["Referral", "/blog/intro", 8]]
    out = task.postprocess(["OR(TextEquals(c[0], /blog/intro), TextEquals(c[0], Social))"], [0.0],
                           'rows in which url is "/blog/intro", or Channel is Social', table)
    assert out[0].code == "OR(TextEquals(c[1], /blog/intro), TextEquals(c[0], Social))"
    # a rule that already reads both named columns keeps its conditions on them (in either order)
    out = task.postprocess(["AND(GreaterThan(c[2], 4), TextEquals(c[0], Social))"], [0.0],
                           "rows where Channel is Social and Visits is over 4", table)
    assert out[0].code in ("AND(GreaterThan(c[2], 4), TextEquals(c[0], Social))",
                           "AND(TextEquals(c[0], Social), GreaterThan(c[2], 4))")
    assert not any("c[0], 4" in c.code for c in out)


def test_a_header_with_a_unit_is_named_without_it():
    from cf_rules.table import Table
    from codefusion.tasks.cf.adapter import column_mentions
    table = Table(["Order ID", "Weight (kg)", "Carrier"], [])
    assert column_mentions("bars on weight", table) == [1]
    assert column_mentions("carrier is DHL and Weight (kg) over 5", table) == [2, 1]


def test_what_a_candidate_paints_follows_the_wording(task):
    from datetime import date, timedelta
    from cf_rules.paint import Paint
    today = date.today()
    table = [["Task", "Deadline"], ["a", str(today - timedelta(days=2))], ["b", str(today - timedelta(days=30))],
             ["c", str(today - timedelta(days=5))], ["d", str(today + timedelta(days=9))]]
    # the column's own name: its cells, with whole rows offered as the other reading
    out = task.postprocess(["Last7Days()"], [0.0], "Show me deadlines in the last 7 days", table)
    assert (out[0].code, out[0].paint, out[0].alternative) == ("Last7Days(c[1])", Paint("cells", 1), Paint("rows"))
    # rows asked for: whole rows, the column's cells as the alternative
    out = task.postprocess(["Last7Days(c[1])"], [0.0], "fill rows due in the last 7 days", table)
    assert (out[0].code, out[0].paint, out[0].alternative) == ("Last7Days(c[1])", Paint("rows"), Paint("cells", 1))


def test_unground_drops_the_one_column_of_a_rule():
    from codefusion.tasks.cf.adapter import unground
    assert unground("AND(GreaterThan(c[1], 5), LessThan(c[1], 9))") == "AND(GreaterThan(5), LessThan(9))"
    assert unground("AND(GreaterThan(c[1], 5), LessThan(c[0], 9))") is None
    assert unground("top(5)") is None


def test_siblings_fill_k_after_every_model_reading(task):
    # the header-only table formats nothing for any rule, so candidates merge by text, not by their (empty) cells
    out = task.postprocess(["GreaterThan(2006)", "GreaterThan(2006)", "Equals(2006)"], [0.0, 0.0, -0.5],
                           "Highlight the year 2006 in the data", [["Index", "Value"]])
    assert [(c.code, c.sibling) for c in out[:3]] == [
        ("GreaterThan(2006)", False), ("Equals(2006)", False), ("GreaterThanEqual(2006)", True)]
    assert {c.code for c in out if c.sibling} == {"GreaterThanEqual(2006)", "LessThan(2006)", "LessThanEqual(2006)",
                                                   "NotEquals(2006)"}


def test_a_sibling_that_formats_the_cells_of_a_model_reading_merges_into_it(task):
    table = [["Value"], [1], [5], [9], [12]]
    out = task.postprocess(["GreaterThan(5)"], [0.0], "values above 5", table)
    assert out[0].code == "GreaterThan(5)" and not out[0].sibling
    assert "GreaterThanEqual(6)" not in [c.code for c in out]
    assert all(c.sibling for c in out[1:])


def test_siblings_of_a_rule():
    from codefusion.tasks.cf.adapter import siblings
    assert siblings("top(c[1], 10%)") == ["bottom(c[1], 10%)"]
    assert siblings("Blanks(c[0])") == ["NOT(Blanks(c[0]))"] and siblings("NOT(Errors())") == ["Errors()"]
    assert siblings("TextContains(X)") == ["TextEquals(X)", "TextStartsWith(X)", "TextEndsWith(X)"]
    assert siblings("AND(GreaterThan(1), LessThan(3))") == [] and siblings("ColorScale()") == []


def test_a_rule_name_glued_to_a_literal_is_debris(task):
    out = task.postprocess(["LessThan(c[1], GreaterThanEqual500)", "LessThan(c[1], 500)"], [0.9, 0.1],
                           "rows where sales are under 500", TABLE, k=1)
    assert model_codes(out) == ["LessThan(c[1], 500)"]


def test_with_k_siblings_only_fill_what_is_missing(task):
    out = task.postprocess(["GreaterThan(c[1], 100)", "LessThan(c[1], 1000)"], [0.0, -0.1], "sales over 100", TABLE, k=2)
    assert not any(c.sibling for c in out)
    out = task.postprocess(["GreaterThan(c[1], 100)"], [0.0], "sales over 100", TABLE, k=3)
    assert out[0].code == "GreaterThan(c[1], 100)" and any(c.sibling for c in out[1:])
