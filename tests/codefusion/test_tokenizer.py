import torch

from codefusion.tokenizer import (BOS_ID, EOS_ID, MASK_ID, PAD_ID, PLACEHOLDER_TOKENS, SPECIAL_TOKENS, UNK_ID,
                                  CodeTokenizer)

CODES = [
    "find . -name '*.txt' | xargs grep -n \"foo\"",
    "top -b -d2 -s1 | sed -e '1,/USERNAME/d'",
    "AND(GreaterThanEqual(25),LessThan(50))",
    "sum(d * 10 ** i for i, d in enumerate(x[::-1]))",
    "r = int(''.join(map(str, x)))",
    "datetime.strptime('2010-11-13 10:33:54.227806', '%Y-%m-%d %H:%M:%S.%f')",
    "for f in *; do\n\techo \"$f\"  ;  done",
] * 5


def _tok(vocab=400):
    return CodeTokenizer.train(CODES, vocab_size=vocab)


def test_special_ids_are_fixed():
    tok = _tok()
    assert [tok.tk.token_to_id(t) for t in SPECIAL_TOKENS] == [PAD_ID, UNK_ID, BOS_ID, EOS_ID, MASK_ID] == [0, 1, 2, 3, 4]
    assert all(tok.tk.token_to_id(t) is not None for t in PLACEHOLDER_TOKENS)


def test_round_trip_training_data_and_unseen_text():
    tok = _tok()
    unseen = ["  leading and trailing  ", "tabs\tand\r\nnewlines\n", "unicode: café ÷ 日本語 😀",
              "x=1234567890.0001", "", " ", "echo '<NUM0>' >> out", "weird ~`^ chars {}[]|\\"]
    for s in CODES + unseen:
        assert tok.decode(tok.encode(s)) == s, repr(s)


def test_digits_and_punctuation_are_split():
    tok = _tok()
    pieces = tok.tk.encode("LessThan(2048)").tokens
    assert [p for p in pieces if p.isdigit()] == ["2", "0", "4", "8"]
    assert "(" in pieces and ")" in pieces


def test_placeholders_are_single_tokens():
    tok = _tok()
    ids = tok.encode("GreaterThan(<NUM0>) <COL3>")
    assert tok.tk.token_to_id("<NUM0>") in ids and tok.tk.token_to_id("<COL3>") in ids
    assert tok.decode(ids) == "GreaterThan(<NUM0>) <COL3>"


def test_decode_stops_at_first_pad_and_drops_bos_eos():
    tok = _tok()
    ids = [BOS_ID] + tok.encode("top(5)") + [EOS_ID, PAD_ID] + tok.encode("junk")
    assert tok.decode(ids) == "top(5)"
    assert tok.decode(torch.tensor(ids)) == "top(5)"


def test_encode_batch_pads_and_flags_overflow():
    tok = _tok()
    ids, fits = tok.encode_batch(["top(5)", "x" * 3 + "(" * 40], max_len=10)
    assert ids.shape == (2, 10) and ids.dtype == torch.long
    assert fits.tolist() == [True, False]
    assert tok.decode(ids[0]) == "top(5)"
    assert ids[0, len(tok.encode("top(5)")):].eq(PAD_ID).all()


def test_save_load(tmp_path):
    tok = _tok()
    tok.save(tmp_path / "tokenizer.json")
    again = CodeTokenizer.load(tmp_path / "tokenizer.json")
    assert again.vocab_size == tok.vocab_size
    assert all(again.encode(s) == tok.encode(s) for s in CODES)
