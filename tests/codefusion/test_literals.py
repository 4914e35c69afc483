"""Literal extraction, placeholder masking and restoring (codefusion/tasks/cf/literals.py)."""
import pytest

from codefusion.tasks.cf.literals import (Masked, extract_literals, mask_request, mask_target, number_spelling, restore,
                                 rule_literal_spans, slot_for)
from codefusion.tasks.cf.copy_report import copy_accuracy


def values(request, kind=None, **kw):
    return [l.value for l in mask_request(request, **kw).literals if kind is None or l.kind == kind]


@pytest.mark.parametrize("surface, spelling", [
    ("1,000", "1000"), ("$800", "800"), ("-3.5", "-3.5"), ("1e3", "1000"), (".5", "0.5"), ("5k", "5000"),
    ("10 lakhs", "1000000"), ("2305", "2305"), ("158.16339942296645", "158.16339942296645"), ("abc", None),
])
def test_number_spelling(surface, spelling):
    assert number_spelling(surface) == spelling


def test_numbers_in_requests():
    m = mask_request("Apply Yellow color to Fees between 400 to $800")
    assert m.text == "Apply Yellow color to Fees between <NUM0> to <NUM1>"
    assert m.slot_values() == {"<NUM0>": "400", "<NUM1>": "800"}
    assert values("values over 1,000") == ["1000"]
    assert values("values below -3.5 please") == ["-3.5"]
    assert values("cells greater than 1e3") == ["1000"]


def test_percent_sign_stays_in_the_text():
    m = mask_request("Apply Top 10% numbers from E3 to E178")
    assert m.text == "Apply Top <NUM0>% numbers from E3 to E178"     # cell references are not literals
    assert mask_target("top(10%)", m) == "top(<NUM0>%)"


def test_unicode_and_cue_text():
    assert values("Style values which have 日 in them") == ["日"]
    assert values("Color cells that have value equal to 選必") == ["選必"]
    assert values("Style values which are In Progress") == ["In Progress"]
    assert values("Cells that are equal to BUONO") == ["BUONO"]
    assert values("I want to color cells containing the word Zmiana") == ["Zmiana"]


def test_quoted_text_is_one_literal_and_keeps_its_quotes():
    m = mask_request('Apply red color to column B values where value is "NAT-ABIRATERONE"')
    assert m.text == 'Apply red color to column B values where value is "<STR0>"'
    assert m.slot_values()["<STR0>"] == "NAT-ABIRATERONE"


def test_sheet_number_ranks_below_the_rule_number():
    m = mask_request("on sheet 2019 highlight values greater than 437")
    assert m.slot_values()["<NUM0>"] == "437"
    assert m.slot_values()["<NUM1>"] == "2019"
    m = mask_request("highlight the cells over 50 in Sheet 3")
    assert m.slot_values()["<NUM0>"] == "50"


def test_alternatives_and_negations():
    m = mask_request("Color cells that are either p or ul")
    assert [m.slot_values()[s] for s in ("<STR0>", "<STR1>")] == ["p", "ul"]
    assert values("visually flag labels whose value is not Spring", "STR") == ["Spring"]


def test_between_keeps_request_order():
    m = mask_request("Select cells that have value between 610 and 550")
    assert mask_target("Between(610, 550)", m) == "Between(<NUM0>, <NUM1>)"


def test_gold_literal_missing_from_request_stays():
    m = mask_request("Apply conditional formatting to cell B5-B12 of sheet 2020")
    assert mask_target("GreaterThan(13 Days)", m) == "GreaterThan(13 Days)"


def test_case_insensitive_text_match_and_numeric_match():
    m = mask_request("highlight cells containing chime or over 70,000")
    assert slot_for("Chime", m) is not None
    assert mask_target("GreaterThan(70000)", m) == "GreaterThan(<NUM0>)"


def test_restore_round_trip_and_unknown_slot():
    m = mask_request("Apply green color where price between 10 to 15")
    assert restore("Between(<NUM0>, <NUM1>)", m) == "Between(10, 15)"
    assert restore("Between(<NUM0>, <NUM5>)", m) == "Between(10, <NUM5>)"      # left for the parser to reject
    q = mask_request('mark cells that say "Done, finally"')
    assert restore("TextEquals(<STR0>)", q, quote=lambda v: f'"{v}"') == 'TextEquals("Done, finally")'


def test_rule_literal_spans():
    spans = [s for _, _, s in rule_literal_spans('AND(GreaterThan(c[1], 5), TextEquals(c[0], "a, b"))')]
    assert spans == ["5", "a, b"]
    assert [s for _, _, s in rule_literal_spans("ColorScale(green, yellow, red)")] == []
    assert [s for _, _, s in rule_literal_spans("top(10%)")] == ["10"]
    assert rule_literal_spans("=$A2>$B2") == []


def test_empty_and_literal_free_requests():
    assert mask_request("").text == ""
    assert mask_request("highlight duplicates").literals == ()
    assert extract_literals(None) == []


def test_copy_accuracy_counts():
    result = copy_accuracy([("values over 5", "GreaterThan(5)"), ("format it", "GreaterThan(9)"),
                            ("duplicates", "Duplicate()")])
    assert result["records_with_literals"] == 2
    assert result["records_all_recoverable"] == 0.5


def test_slots_match_the_tokenizer_reserved_tokens():
    from codefusion.tasks.cf.literals import MAX_SLOTS
    from codefusion.tokenizer import PLACEHOLDER_TOKENS
    for kind, n in MAX_SLOTS.items():
        assert f"<{kind}{n - 1}>" in PLACEHOLDER_TOKENS and f"<{kind}{n}>" not in PLACEHOLDER_TOKENS


def test_more_texts_than_slots_stay_in_the_text():
    m = mask_request('cells equal to "a1" or "b2" or "c3" or "d4" or "e5"')
    assert len([l for l in m.literals if l.kind == "STR"]) == 4
    assert '"e5"' in m.text or '"a1"' in m.text


def test_text_literals_end_before_place_adverbs_and_a_trailing_format_colour():
    assert values("labels which have Osaka somewhere in them") == ["Osaka"]
    assert values("rows for which page is like /home blue") == ["/home"]
    assert values("rows where Status is Dark Blue") == ["Dark Blue"]       # a capitalised colour is a value
    assert values("colour cells that say Blue") == ["Blue"]


def test_number_words_before_least_and_greatest():
    assert values("Find the five least values in the Quantity column", "NUM") == ["5"]
    assert values("the three greatest values in punkte", "NUM") == ["3"]


def test_colour_code_is_a_verb_not_a_noun_cue():
    assert values("Colour-code entire rows for which region is prefixed with C") == ["C"]
    assert values("rows where the code is X1") == ["X1"]
