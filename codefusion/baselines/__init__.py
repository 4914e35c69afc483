"""Baselines, evaluated by the same command as CodeFusion (`python -m codefusion.evaluate --system ...`).

Every system follows the `System` protocol of codefusion/evaluate.py:

    system.name                                   # "retrieval", "autoregressive", ...
    system.generate(request, table=None, k=5)     # -> list[Candidate(code, score)], best first

- `retrieval.RetrievalSystem`: nearest training request by MiniLM sentence embedding, its code
  with the request's literals substituted.
- `autoregressive` (written separately): evaluate.py imports it when asked for
  `--system autoregressive` and calls `load_system(task, checkpoint=None) -> System`.
"""
