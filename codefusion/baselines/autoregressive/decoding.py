"""Decoding for the autoregressive baseline: beam search (k beams) and sampling (k independent samples),
batched over requests and beams, with each decoder layer's keys/values cached between positions.

A candidate's score is its mean token log-prob, [EOS] included.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...tokenizer import BOS_ID, EOS_ID, PAD_ID


@dataclass
class Decoded:
    ids: torch.Tensor       # [B, k, L] code token ids, [PAD] after the end ([EOS] itself is kept)
    scores: torch.Tensor    # [B, k] mean log-prob of the generated tokens, [EOS] included; best first for beams


@torch.inference_mode()
def beam_search(model, states, mask, k: int = 5, max_len: int | None = None) -> Decoded:
    """k best sequences per request by beam search with k beams, ranked by mean log-prob.

    Each step expands every live beam over the vocabulary and keeps the 2k best continuations by
    total log-prob; those that end with [EOS] become finished hypotheses, the best k others stay live.
    A request is done when it has k finished hypotheses and no live beam can still beat the k-th
    (a live beam's mean is at most its total / max_len, since every further token adds <= 0)."""
    L = min(max_len or model.cfg.max_code_len, model.cfg.max_code_len)
    B = states.shape[0]
    cross, attn_mask, caches = model.start_decoding(states, mask, k)
    beam_logp = torch.full((B, k), -math.inf)
    beam_logp[:, 0] = 0.0                      # all beams start equal: expand only the first
    tokens = torch.full((B * k,), BOS_ID, dtype=torch.long)
    sequences = torch.zeros(B * k, 0, dtype=torch.long)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    done = [False] * B
    V = model.cfg.vocab_size
    for position in range(L):
        logp = model.next_log_probs(tokens, position, cross, attn_mask, caches)
        total = (beam_logp.view(-1, 1) + logp).view(B, k * V)
        top, index = total.topk(min(2 * k, k * V), dim=-1)
        top, index = top.tolist(), index.tolist()
        new_logp = torch.full((B, k), -math.inf)
        new_source = torch.zeros(B, k, dtype=torch.long)
        new_token = torch.full((B, k), PAD_ID, dtype=torch.long)
        for b in range(B):
            if done[b]:
                continue
            slot = 0
            for score, flat in zip(top[b], index[b]):
                if score == -math.inf or slot == k:
                    break
                beam, token = divmod(flat, V)
                if token == EOS_ID:
                    finished[b].append((score / (position + 1), sequences[b * k + beam].tolist() + [EOS_ID]))
                else:
                    new_logp[b, slot], new_source[b, slot], new_token[b, slot] = score, beam, token
                    slot += 1
            if len(finished[b]) >= k:
                kth = sorted((s for s, _ in finished[b]), reverse=True)[k - 1]
                done[b] = float(new_logp[b].max()) / L <= kth
            if done[b]:
                new_logp[b] = -math.inf
        if all(done):
            break
        rows = (torch.arange(B)[:, None] * k + new_source).view(-1)
        sequences = torch.cat([sequences[rows], new_token.view(-1, 1)], dim=1)
        for cache in caches:
            cache["k"], cache["v"] = cache["k"][rows], cache["v"][rows]
        beam_logp, tokens = new_logp, new_token.view(-1)
    for b in range(B):   # too long for max_len: unfinished beams fill up what is missing, scored the same way
        if len(finished[b]) < k:
            for j in range(k):
                if beam_logp[b, j] > -math.inf:
                    finished[b].append((float(beam_logp[b, j]) / L, sequences[b * k + j].tolist()))
    ids = torch.full((B, k, L), PAD_ID, dtype=torch.long)
    scores = torch.full((B, k), -math.inf)
    for b in range(B):
        for j, (score, seq) in enumerate(sorted(finished[b], key=lambda h: -h[0])[:k]):
            ids[b, j, :len(seq)] = torch.tensor(seq[:L], dtype=torch.long)
            scores[b, j] = score
    return Decoded(ids, scores)


@torch.inference_mode()
def sample(model, states, mask, k: int = 5, generator: torch.Generator | None = None,
       temperature: float = 1.0, top_p: float = 1.0, max_len: int | None = None) -> Decoded:
    """k independent samples per request (temperature / nucleus); scores are the mean log-prob
    of the sampled tokens under the model itself (temperature 1)."""
    if temperature <= 0 or not 0 < top_p <= 1:
        raise ValueError(f"sampling needs temperature > 0 and 0 < top_p <= 1, got {temperature}, {top_p}")
    L = min(max_len or model.cfg.max_code_len, model.cfg.max_code_len)
    B = states.shape[0]
    N = B * k
    cross, attn_mask, caches = model.start_decoding(states, mask, k)
    tokens = torch.full((N,), BOS_ID, dtype=torch.long)
    ids = torch.full((N, L), PAD_ID, dtype=torch.long)
    total, count = torch.zeros(N), torch.zeros(N)
    alive = torch.ones(N, dtype=torch.bool)
    for position in range(L):
        logp = model.next_log_probs(tokens, position, cross, attn_mask, caches)
        probs = (logp / temperature).softmax(-1)
        if top_p < 1.0:
            probs = _nucleus(probs, top_p)
        tokens = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        tokens = torch.where(alive, tokens, torch.full_like(tokens, PAD_ID))
        ids[:, position] = tokens
        chosen = logp.gather(1, tokens[:, None]).squeeze(1)
        total += torch.where(alive, chosen, torch.zeros_like(chosen))
        count += alive.float()
        alive &= tokens != EOS_ID
        if not alive.any():
            break
    return Decoded(ids.view(B, k, L), (total / count.clamp(min=1)).view(B, k))



def _nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose mass reaches top_p (the first always stays)."""
    sorted_p, order = probs.sort(-1, descending=True)
    drop = sorted_p.cumsum(-1) - sorted_p >= top_p
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    return torch.zeros_like(probs).scatter(-1, order, sorted_p)

