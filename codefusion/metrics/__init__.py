"""Evaluation metrics, one module per idea:

- `bleu`: CoNaLa BLEU (tokenizer + corpus BLEU-4, top-k selection) and CoNaLa exact match.
- `bash_template`: NL2Bash template match (bashlex) and whitespace-normalized exact match.
- `cf_exec`: execution match of conditional-formatting rules on the record's table.
- `diversity`: how different a request's k candidates are.

Submodules are imported where used (`from codefusion.metrics.bleu import corpus_bleu`) so that
evaluating Bash does not need the CF rule engine and vice versa.
"""
