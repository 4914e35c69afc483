"""The Bash/Python generator: CodeFusion draws plus the request's nearest train pairs, ranked as one list.

    gen = load_generator("bash")            # codefusion.generate picks this class through the task adapter
    gen.generate("find all .log files larger than 10MB", k=5)
    -> [CodeCandidate(code="find . -name '*.log' -size +10M", score, confidence=0.6, origin="both"), ...]

One encoder pass serves both: its mean-pooled, L2-normalized states are the MiniLM sentence embedding the
datastore (codefusion/neighbours.py) is indexed by. The `votes` nearest train pairs are proposals, each
edited with the request's arguments; a checkpoint with neighbour memory (ModelConfig.neighbours = m) also
reads the codes of the first m of them while it denoises. The task adapter's CodeRanker
(tasks/code_candidates.py) keeps the proposals that parse, merges those that do the same thing and ranks
them with a confidence. Nothing is executed.

Without the benchmark data (no datastore can be built) the generator still serves the model's codes,
parse-checked and ranked the same way, and says so in `neighbour_status`.
`CODEFUSION_NEIGHBOUR_VOTES=N` overrides the number of voting neighbours (0: the model's codes only). A
checkpoint with another request encoder than MiniLM (a from-scratch one) gets no neighbours.
"""
from __future__ import annotations

import logging
import os

import torch
import torch.nn.functional as F

from .baselines.retrieval import ENCODER_REF
from .generate import Generator
from .neighbours import Datastore

log = logging.getLogger("codefusion.retrieval_augmented")


def sentence_embedding(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token states over real tokens, L2-normalized (the sentence-transformers pooling of MiniLM)."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    return F.normalize((states * weights).sum(1) / weights.sum(1).clamp(min=1.0), dim=-1)


class RetrievalAugmentedGenerator(Generator):
    def __init__(self, checkpoint_dir, task: str | None = None, votes: int | None = None,
                 datastore: Datastore | None = None, **sampling):
        super().__init__(checkpoint_dir, task, **sampling)
        self.ranker = self.task.ranker()
        env = os.environ.get("CODEFUSION_NEIGHBOUR_VOTES")
        self.votes = int(env) if env not in (None, "") else (self.task.neighbour_votes if votes is None else votes)
        self.store = datastore
        self.neighbour_status = "given"
        if self.config.encoder != ENCODER_REF:   # the datastore is indexed by MiniLM embeddings; others do not compare
            self.votes, self.neighbour_status = 0, f"off: the checkpoint's encoder is {self.config.encoder}"
        if self.store is None and (self.votes or self.config.neighbours):
            try:
                self.store = Datastore.for_task(self.task_name)
                self.neighbour_status = f"{len(self.store)} train pairs ({self.store.source.get('dataset', '?')})"
            except (FileNotFoundError, ValueError) as err:
                self.neighbour_status = f"unavailable: {err}"
                log.warning("no %s datastore (%s): serving the model's codes only", self.task_name, err)
        if self.store is not None and hasattr(self.task, "prepare_store"):
            self.task.prepare_store(self.store)
        if self.store is None and self.config.neighbours:
            raise FileNotFoundError(f"{checkpoint_dir} reads {self.config.neighbours} neighbours but no datastore "
                                    f"could be built: {self.neighbour_status}")
        self._store_ids = None

    def _neighbour_ids(self, indices) -> torch.Tensor:
        if self._store_ids is None:
            self._store_ids = self.tokenizer.encode_batch(self.store.codes, self.config.max_code_len)[0]
        return self._store_ids[torch.as_tensor(indices[:self.config.neighbours])][None]

    @torch.inference_mode()
    def _sample(self, request, table, k, steps, seed, trajectory: bool, should_stop=None):
        self._check(request, k, steps)
        states, mask = self.encoder([self.task.source_text(request, table)])
        found = []
        if self.store is not None and (self.votes or self.config.neighbours):
            query = sentence_embedding(states, mask).float().numpy()
            indices, sims = self.store.nearest(query, max(self.votes, self.config.neighbours))
            found = list(zip(indices[0].tolist(), sims[0].tolist()))
        neighbour_ids = self._neighbour_ids([i for i, _ in found]) if self.config.neighbours else None
        out = self.model.sample(states, mask, k=int(k) * self.oversample, steps=steps, generator=self._rng(seed),
                                eta=self.eta, projection=self.projection, return_trajectory=trajectory,
                                alternatives=self.alternatives, restart_t=self.restart_t, restarts=self.restarts,
                                neighbour_ids=neighbour_ids, should_stop=should_stop)
        out.neighbours = found[:self.votes]
        return out

    def _candidates(self, out, request, table, k):
        codes = self.tokenizer.decode_batch(out.ids[0])
        neighbours = [(self.store.codes[i], self.store.requests[i], s) for i, s in getattr(out, "neighbours", [])]
        return self.ranker.rank(request, list(zip(codes, out.scores[0].tolist())), neighbours, int(k))
