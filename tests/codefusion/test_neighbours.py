import numpy as np
import pytest
import torch

from codefusion.config import get_config
from codefusion.data import Record
from codefusion.model import CodeFusion
from codefusion.neighbours import SOURCES, Datastore


class BagOfWords:
    """A deterministic stand-in for MiniLM: normalized word counts over a fixed vocabulary."""
    vocab = ["list", "files", "count", "lines", "find", "logs", "remove", "old"]

    def __call__(self, texts):
        out = np.array([[t.lower().split().count(w) for w in self.vocab] for t in texts], dtype=np.float32) + 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


RECORDS = [Record(1, "list files", "ls"), Record(2, "count lines", "wc -l f"), Record(3, "find logs", "find . -name '*.log'"),
           Record(4, "remove old files", "find . -mtime +7 -delete"), Record(5, "list  files ", "ls -1")]


def test_nearest_is_ordered_and_leaves_out_the_excluded_row(tmp_path):
    store = Datastore.fit("bash", RECORDS, BagOfWords())
    assert store.requests[4] == "list files" and store.source == SOURCES["bash"]
    idx, sims = store.nearest(store.embed(["list files"]), m=2)
    assert sorted(idx[0].tolist()) == [0, 4] and sims[0, 0] >= sims[0, 1]
    idx, _ = store.nearest(store.embeddings[[0]], m=1, exclude=[0])
    assert idx[0, 0] == 4                       # its twin, not itself
    loaded = Datastore.load(store.save(tmp_path / "store"))
    assert loaded.codes == store.codes and loaded.source == store.source
    np.testing.assert_allclose(loaded.embeddings, store.embeddings, atol=1e-3)   # stored as float16


def test_empty_store_is_refused():
    with pytest.raises(ValueError):
        Datastore("bash", [], [], np.zeros((0, 4), np.float32), {})


def _tiny(**extra):
    cfg = get_config("tiny").model
    cfg.vocab_size = 40
    for k, v in extra.items():
        setattr(cfg, k, v)
    torch.manual_seed(0)
    return cfg


def test_added_parts_leave_the_base_model_function_unchanged_until_trained():
    base = CodeFusion(_tiny(), 64).eval()
    extended = CodeFusion(_tiny(neighbours=2, self_condition=True), 64).eval()
    missing = extended.load_state_dict(base.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith(("neighbour_memory.", "denoiser.self_cond.")) for k in missing)
    ids = torch.randint(5, 40, (2, 8))
    mem, mask = torch.randn(2, 3, 64), torch.ones(2, 3, dtype=torch.bool)
    t, noise = torch.tensor([10, 150]), torch.randn(2, 8, 16)
    a = base(ids, mem, mask, t, noise)["logits"]
    b = extended(ids, mem, mask, t, noise, self_condition=torch.tensor([True, False]))["logits"]
    torch.testing.assert_close(a, b)


def test_neighbour_codes_change_what_the_model_predicts():
    model = CodeFusion(_tiny(neighbours=2), 64).eval()
    ids = torch.randint(5, 40, (1, 8))
    mem, mask = torch.randn(1, 3, 64), torch.ones(1, 3, dtype=torch.bool)
    t, noise = torch.tensor([100]), torch.randn(1, 8, 16)
    nb = torch.zeros(1, 2, 8, dtype=torch.long)
    nb[0, :, :4] = torch.tensor([7, 8, 9, 10])
    with_nb = model(ids, mem, mask, t, noise, neighbour_ids=nb)["logits"]
    without = model(ids, mem, mask, t, noise)["logits"]
    assert not torch.allclose(with_nb, without)
    out = model.sample(torch.randn(1, 3, 64), mask, k=3, steps=2, neighbour_ids=nb)
    assert out.ids.shape == (1, 3, 8)


def test_pairs_of_the_same_record_id_are_excluded_together(tmp_path):
    records = [Record(7, "list files", "ls"), Record(7, "list  files please", "ls -a"), Record(9, "list files", "ls -1")]
    store = Datastore.fit("python", records, BagOfWords())
    idx, _ = store.nearest(store.embeddings[[0]], m=1, exclude=[0])
    assert idx[0, 0] == 2                       # not row 1: it belongs to the same question (ID 7)
    assert Datastore.load(store.save(tmp_path)).ids == [7, 7, 9]
