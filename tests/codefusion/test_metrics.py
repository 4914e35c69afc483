"""Metric tests with hand-computed expectations."""
import math

import pytest

from codefusion.metrics import bash_template as bt
from codefusion.metrics.bleu import (best_of_k, compute_bleu, conala_exact_match, corpus_bleu, corpus_bleu_at_k,
                                     sentence_bleu, tokenize_for_bleu)
from codefusion.metrics.cf_exec import CFReference, exec_match, is_valid, run_rule
from codefusion.metrics.diversity import (distinct_ratio, diversity, edit_distance, pairwise_edit,
                                          self_bleu_diversity)


# ---------------------------------------------------------------------------------------------- BLEU

def test_conala_tokenizer_splits_punctuation_camel_case_and_unifies_quotes():
    assert tokenize_for_bleu("x = foo.getValue('a')") == ["x", "=", "foo", ".", "get", "Value", "(", "`", "a", "`", ")"]
    assert tokenize_for_bleu('d["k"]') == tokenize_for_bleu("d['k']")
    assert tokenize_for_bleu("  a_b  +\n 12 ") == ["a_b", "+", "12"]


def test_identical_corpus_scores_100():
    codes = ["x = foo(a, b)", "sorted(l, key=lambda t: t[1])"]
    assert corpus_bleu(codes, codes) == pytest.approx(100.0)


def test_brevity_penalty_hand_computed():
    # every n-gram of "a b c d" is in "a b c d e": precisions 1; ratio 4/5 -> BP = exp(1 - 5/4)
    assert corpus_bleu(["a b c d e"], ["a b c d"]) == pytest.approx(100 * math.exp(-0.25))
    # a longer hypothesis is not penalised by BP, only through precision: 4/5, 3/4, 2/3, 1/2
    expected = 100 * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert corpus_bleu(["a b c d"], ["a b c d e"]) == pytest.approx(expected)


def test_corpus_bleu_sums_counts_over_the_corpus_not_sentence_average():
    refs = ["a b c d", "e f g h"]
    hyps = ["a b c d", "e f x h"]
    # matches/possible per order: 1: 7/8, 2: 4/6, 3: 2/4, 4: 1/2; BP 1
    expected = 100 * (7 / 8 * 4 / 6 * 2 / 4 * 1 / 2) ** 0.25
    assert corpus_bleu(refs, hyps) == pytest.approx(expected)
    assert expected == pytest.approx(61.80, abs=0.01)
    # the second sentence alone has no 4-gram match: unsmoothed sentence BLEU 0
    assert sentence_bleu("e f g h", "e f x h", smooth=False) == 0.0


def test_clipping_and_unsmoothed_zero():
    # unigram precision with clipping: "a" counted once against one "a" in the reference
    assert compute_bleu([[list("abcd")]], [list("aaaa")], max_order=1) == pytest.approx(0.25)
    # a 3-token snippet has no 4-grams: unsmoothed BLEU is 0 even when identical, smoothed is 100
    assert corpus_bleu(["a b c"], ["a b c"]) == 0.0
    assert sentence_bleu("a b c", "a b c") == pytest.approx(100.0)


def test_empty_hypothesis_scores_zero_instead_of_crashing():
    assert corpus_bleu(["a b c d"], [""]) == 0.0
    with pytest.raises(ValueError, match="reference"):
        compute_bleu([[]], [["a"]])
    with pytest.raises(ValueError, match="2 reference lists but 1"):
        compute_bleu([[["a"]], [["b"]]], [["a"]])


def test_top_k_bleu_picks_the_best_candidate_among_the_first_k():
    refs = ["a b c d"]
    cands = [["x y z w", "a b c d", "a b c d"]]
    assert corpus_bleu_at_k(refs, cands, 1) == 0.0
    assert corpus_bleu_at_k(refs, cands, 2) == pytest.approx(100.0)
    # ties keep the earlier candidate; no candidates gives the empty hypothesis
    assert best_of_k("a b", ["q", "r"], 2) == "q"
    assert corpus_bleu_at_k(["a b c d"], [[]], 5) == 0.0


def test_conala_exact_match_is_token_equality():
    assert conala_exact_match("f('a')", 'f( "a" )')
    assert not conala_exact_match("f(a)", "f(b)")


# ---------------------------------------------------------------------------------------------- Bash

@pytest.mark.parametrize("a, b", [
    ("find . -name '*.txt'", 'find /tmp -name "*.py"'),
    ("ls -l /var | wc -l", "ls -l ~ | wc -l"),
    ("grep -r foo . > out.txt 2>&1", "grep -r bar src > log 2>&1"),
    ("find . -type f -exec rm {} \\;", "find /x -type d -exec rm {} \\;"),
    ("echo $(basename $PWD)", "echo $(basename /a/b)"),
    ("head -n 10 file", "head -n 3 other"),
])
def test_template_match_abstracts_arguments(a, b):
    assert bt.template_match(a, b), (bt.template(a), bt.template(b))


@pytest.mark.parametrize("a, b", [
    ("find . -name a", "find . -iname a"),           # a different flag
    ("ls | wc -l", "ls ; wc -l"),                     # pipe vs sequence
    ("ls && pwd", "ls || pwd"),
    ("cat a > b", "cat a >> b"),                      # redirection kind
    ("echo $(date)", "echo $(pwd)"),                  # the substituted command counts
    ("find . -exec rm {} \\;", "find . -exec mv {} \\;"),  # utility after -exec
    ("sort f", "uniq f"),
    ("ls -la", "ls -al"),                             # flags are compared as written
])
def test_template_mismatch_on_structure(a, b):
    assert not bt.template_match(a, b), (bt.template(a), bt.template(b))


def test_template_text_for_a_typical_command():
    assert bt.template("find . -name '*.php' -type f | xargs wc -l") == "find ARG -name ARG -type ARG | xargs wc -l"
    assert bt.template("find . -type f -exec rm {} \\;") == "find ARG -type ARG -exec rm {} ;"
    # xargs' own options (and -I's value) are read before the utility it runs
    assert bt.template("xargs -0 -I % sh -c 'echo %'") == "xargs -0 -I ARG sh -c ARG"
    assert bt.template("sudo -u bob rm -rf /tmp/x") == "sudo -u ARG rm -rf ARG"
    assert bt.template("du --max-depth=1 /") == "du --max-depth=ARG ARG"
    assert bt.template("diff <(sort a) <(sort b)") == "diff <( sort ARG ) <( sort ARG )"
    assert bt.template("tail -5 f") == "tail ARG ARG"   # a numeric word is an argument


def test_unparseable_command_uses_the_regex_fallback():
    template, parsed = bt.template_with_source('grep "unterminated foo | wc -l')
    assert parsed is False
    assert template.startswith("grep ARG")
    # the fallback applies the same abstraction as the bashlex path on ordinary commands
    for command in ["find . -name '*.txt' | xargs rm -f > out 2>&1", "ls -l && cd /tmp ; pwd", "tail -5 f"]:
        assert " ".join(bt._fallback_template(command)) == bt.template(command)


def test_bash_exact_match_normalizes_whitespace_only():
    assert bt.exact_match("ls  -l\n", "ls -l")
    assert not bt.exact_match("ls -l", "ls -la")
    assert bt.template_with_source("   ") == ("", True)


# ---------------------------------------------------------------------------------------------- CF

TABLE = [["Index", "Value"], [0, "10"], [1, "20"], [2, "30"], [3, "30"], [4, "text"]]


def test_exec_match_same_cells_different_rule():
    # both format 20, 30, 30 and the text cell (Excel ranks text above every number)
    assert exec_match("GreaterThan(15)", "GreaterThanEqual(20)", TABLE)
    assert not exec_match("GreaterThan(15)", "GreaterThan(25)", TABLE)
    assert exec_match("Between(15, 35)", "AND(GreaterThan(15), LessThan(35))", TABLE)


def test_exec_match_ties_follow_the_executor():
    # Excel's top-N includes every cell tied with the N-th value: top(1) formats both 30s
    assert run_rule("top(1)", CFReference("top(1)", TABLE).table).cells == ("B4", "B5")
    assert exec_match("top(1)", "top(2)", TABLE)
    assert not exec_match("top(1)", "top(3)", TABLE)


def test_exec_match_visual_rules_compare_kind_and_cells():
    assert exec_match("ColorScale()", "ColorScale(green, yellow, red)", TABLE)   # colours are not compared
    assert not exec_match("ColorScale()", "DataBar()", TABLE)                     # same cells, other kind
    assert not exec_match("ColorScale()", "IconSet()", TABLE)
    assert not exec_match("ColorScale()", "GreaterThan(0)", TABLE)


def test_only_the_value_column_is_tested():
    table = [["Index", "Value", "Score"], [0, "10", 900], [1, "50", 900]]
    assert run_rule("GreaterThan(20)", CFReference("x", table).table).cells == ("B3",)


def test_fallback_to_canonical_form_without_data_rows():
    header_only = [["Index", "Value"]]
    reference = CFReference("GreaterThan(5)", header_only)
    assert not reference.executable
    assert reference.matches("GreaterThan( 5 )")      # same canonical form
    assert not reference.matches("GreaterThan(6)")    # would format the same (nothing) but is another rule
    assert exec_match("top(10)", "top(10)", [])


def test_unparseable_reference_or_candidate_never_matches():
    assert not exec_match("TextEquals()", "TextEquals()", TABLE)
    assert not exec_match("GreaterThan(15)", "GreaterThan(", TABLE)
    assert not is_valid("GreaterThan(")
    assert is_valid("GreaterThan(15)")


# ---------------------------------------------------------------------------------------------- diversity

def test_distinct_ratio_and_edit_distance():
    assert distinct_ratio(["a b", "a  b", "c"]) == pytest.approx(2 / 3)
    assert distinct_ratio([]) == 0.0
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], ["a", "b"]) == 2
    # "f(a)" vs "f(b)": 4 tokens each, one substitution
    assert pairwise_edit(["f(a)", "f(b)"]) == pytest.approx(1 / 4)
    assert pairwise_edit(["x"]) == 0.0


def test_self_bleu_diversity():
    assert self_bleu_diversity(["a b c d", "a b c d"]) == pytest.approx(0.0)
    # no shared n-gram: precisions 0.1/4, 0.1/3, 0.1/2, 0.1/1 (epsilon smoothing), BP 1
    assert self_bleu_diversity(["a b c d", "w x y z"]) == pytest.approx(1 - (0.1 ** 4 / 24) ** 0.25)
    # orders a short snippet does not have are left out: identical 3-token snippets are not diverse
    assert self_bleu_diversity(["a b c", "a b c"]) == pytest.approx(0.0)
    assert self_bleu_diversity(["a b c d"]) == 0.0
    scores = diversity(["a b c d", "a b c d", "w x y z"])
    assert set(scores) == {"distinct", "pairwise_edit", "self_bleu_div"}
    assert scores["distinct"] == pytest.approx(2 / 3)
