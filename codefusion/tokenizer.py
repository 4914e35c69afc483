"""Code tokenizer: byte-level BPE trained with the `tokenizers` library.

Why byte-level: every string (any whitespace, any unicode) maps to tokens and back exactly, so
decode(encode(s)) == s holds for all code. Before BPE merges, text is split so that merges never
cross code punctuation (`( ) , [ ] = < > ' "` ...) and every digit stands alone: the model then
copies numbers digit by digit instead of needing a token for each number it has seen.
"""
from __future__ import annotations

from typing import Iterable

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

PAD, UNK, BOS, EOS, MASK = "[PAD]", "[UNK]", "[BOS]", "[EOS]", "[MASK]"
SPECIAL_TOKENS = [PAD, UNK, BOS, EOS, MASK]  # ids 0..4, in this order
# Literal placeholders a task adapter may substitute for numbers, strings and column names.
PLACEHOLDER_TOKENS = ([f"<NUM{i}>" for i in range(8)] + [f"<STR{i}>" for i in range(4)]
                      + [f"<COL{i}>" for i in range(16)])
PAD_ID, UNK_ID, BOS_ID, EOS_ID, MASK_ID = range(5)


def _pre_tokenizer():
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" ?[^\w\s]"), behavior="isolated"),  # each punctuation char alone (+ its leading space)
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])


class CodeTokenizer:
    """Thin wrapper over a `tokenizers.Tokenizer` with fixed special ids and tensor helpers."""

    def __init__(self, tokenizer: Tokenizer):
        self.tk = tokenizer
        for i, tok in enumerate(SPECIAL_TOKENS):
            if tokenizer.token_to_id(tok) != i:
                raise ValueError(f"tokenizer must map {tok} to id {i}; was it trained by CodeTokenizer.train?")
        self._strip_ids = {PAD_ID, BOS_ID, EOS_ID}

    # -- construction / persistence -------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 4000, min_frequency: int = 2) -> "CodeTokenizer":
        tk = Tokenizer(models.BPE())
        tk.pre_tokenizer = _pre_tokenizer()
        tk.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
            special_tokens=SPECIAL_TOKENS + PLACEHOLDER_TOKENS,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes: nothing is ever unknown
        )
        tk.train_from_iterator((t for t in texts if t), trainer=trainer)
        return cls(tk)

    @classmethod
    def load(cls, path) -> "CodeTokenizer":
        return cls(Tokenizer.from_file(str(path)))

    def save(self, path) -> None:
        self.tk.save(str(path))

    @property
    def vocab_size(self) -> int:
        return self.tk.get_vocab_size()

    # -- text <-> ids ------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return self.tk.encode(text, add_special_tokens=False).ids

    def decode(self, ids) -> str:
        """Ids -> text. Stops at the first [PAD] (the model's end of sequence), drops [BOS]/[EOS]."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        kept = []
        for i in ids:
            if i == PAD_ID:
                break
            if i not in self._strip_ids:
                kept.append(int(i))
        return self.tk.decode(kept, skip_special_tokens=False)

    def encode_batch(self, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad to `max_len` with [PAD]. Returns (ids [B, max_len], fits [B] bool: False where the text was too long
        and got truncated). A target must leave room for at least one [PAD], which marks its end."""
        encs = self.tk.encode_batch(list(texts), add_special_tokens=False)
        ids = torch.full((len(encs), max_len), PAD_ID, dtype=torch.long)
        fits = torch.ones(len(encs), dtype=torch.bool)
        for row, enc in enumerate(encs):
            seq = enc.ids
            if len(seq) >= max_len:
                fits[row] = False
                seq = seq[:max_len]
            if seq:
                ids[row, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        return ids, fits

    def decode_batch(self, ids: torch.Tensor) -> list[str]:
        return [self.decode(row) for row in ids.reshape(-1, ids.shape[-1]).tolist()]
