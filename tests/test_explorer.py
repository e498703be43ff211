"""The alignment explorer of notebook 07: what it draws is the alignment of the chosen embeddings, computed
independently here; widgets redraw on a change; the mode rule; bad choices named."""

import numpy as np
import pytest
import torch

from vttwins.companion.config import load_config
from vttwins.companion.experiments import examples, explorer as exp
from vttwins.models.text import Tokenizer


class Tiny(torch.nn.Module):
    """A stand-in model: fixed random projections of features and of bag-of-words (counts calls)."""

    def __init__(self, seed: int, width: int, vocab: int):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.pv = torch.randn(width, 16, generator=g)
        self.pt = torch.randn(vocab + 1, 16, generator=g)
        self.video_calls = 0

    def encode_video(self, x, normalize=True):
        self.video_calls += 1
        v = x.mean(dim=1) @ self.pv
        return torch.nn.functional.normalize(v, dim=-1) if normalize else v

    def encode_text(self, ids, normalize=True):
        t = self.pt[ids.clamp(min=0)].sum(dim=1)
        return torch.nn.functional.normalize(t, dim=-1) if normalize else t


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cfg = load_config("configs/smoke.yaml")
    paths = examples.heldout_videos(cfg, 2, tmp_path_factory.mktemp("heldout"))
    ids = examples.howto_ids(paths)
    words = sorted(
        {w for vid in ids for c in examples.read_annotation(paths, vid)["captions"] for w in c["text"].split()}
    )
    tok = Tokenizer(words)
    width = np.load(next(paths.howto_features.glob("*.npy"))).shape[1]
    models = {"a": Tiny(0, width, len(words) + 2), "b": Tiny(1, width, len(words) + 2)}
    return exp.AlignmentExplorer(models, tok, paths, ids, n_clips=6, window=cfg.model.feature_window), ids


def test_row_is_the_alignment_of_the_chosen_model_and_video(setup):
    from vttwins.alignment import soft_alignment

    view, ids = setup
    choice = exp.Choice(video=ids[1], model="b", gamma=0.3, tau=0.2, smooth=False, weak=True)
    row, stat = view.row(choice)
    v, t, caps, ann = examples.embed_sequences(view.models["b"], view.tokenizer, view.paths, ids[1], 6, view.window)
    # float32 products: the same math blocked differently by another thread count differs in the last bits
    np.testing.assert_allclose(row["cost"], -(v @ t.T).numpy(), rtol=1e-5, atol=1e-6)  # the cost, computed here
    e = soft_alignment(v[None], t[None], gamma=0.3, tau=0.2, smooth=False, weak=True).real[0].numpy()
    np.testing.assert_allclose(row["E_real"], e, rtol=1e-5, atol=1e-6)
    # every clip and caption is either on the hard path or skipped, never both
    on_x, on_y = {i for i, _ in row["path"]}, {j for _, j in row["path"]}
    assert on_x.isdisjoint(row["unmatched_x"]) and on_x | set(row["unmatched_x"]) == set(range(len(caps)))
    assert on_y.isdisjoint(row["unmatched_y"]) and on_y | set(row["unmatched_y"]) == set(range(len(caps)))
    assert stat["matched_pairs"] == len(row["path"])
    assert "b" in row["label"] and "tau=0.2" in row["label"]


def test_expensive_skips_and_the_plain_lattice_give_full_monotone_paths(setup):
    view, ids = setup
    for choice in (
        exp.Choice(video=ids[0], model="a", tau=50.0, smooth=False),  # skipping costs > any cell in [-1, 1]
        exp.Choice(video=ids[0], model="a", smooth=False, weak=False),
    ):  # no skip cells at all
        row, _ = view.row(choice)
        path, (n, m) = row["path"], row["cost"].shape
        assert not row["unmatched_x"] and not row["unmatched_y"]
        assert path[0] == (0, 0) and path[-1] == (n - 1, m - 1)
        steps = {(i2 - i1, j2 - j1) for (i1, j1), (i2, j2) in zip(path, path[1:])}
        assert steps <= {(1, 0), (0, 1), (1, 1)}


def test_embeddings_are_computed_once_per_model_and_video(setup):
    view, ids = setup
    view.models["a"].video_calls = 0
    view._embedded.clear()
    for gamma in (0.05, 0.1, 1.0):
        view.row(exp.Choice(video=ids[0], model="a", gamma=gamma))
    assert view.models["a"].video_calls == 1


def test_widgets_redraw_on_a_change(setup):
    ipywidgets = pytest.importorskip("ipywidgets")
    view, ids = setup
    drawn = []
    real_figure = view.figure
    view.figure = lambda **c: drawn.append(c) or real_figure(**c)
    try:
        box = view.widget(video=ids[0], model="a")
        controls = {c.description: c for row in box.children[:3] for c in row.children}
        assert set(controls) == {"video", "model", "γ", "τ (skip)", "local smoothing", "weak lattice (skips)"}
        controls["model"].value = "b"
        controls["τ (skip)"].value = 1.0
        controls["local smoothing"].value = False
    finally:
        view.figure = real_figure
    assert drawn[-1]["model"] == "b" and drawn[-1]["tau"] == 1.0 and drawn[-1]["smooth"] is False
    assert len(drawn) >= 4 and isinstance(box.children[-1], ipywidgets.Output)


def test_mode_rule_and_static_show(setup, monkeypatch):
    view, ids = setup
    monkeypatch.delenv(exp.SESSION_ENV, raising=False)
    assert not exp.widgets_available("auto") and exp.widgets_available("widgets")
    monkeypatch.setenv(exp.SESSION_ENV, "notebooks/07_alignment_paths.ipynb")
    assert exp.widgets_available("auto") and not exp.widgets_available("static")
    assert view.show("static", model="a") == "static"
    with pytest.raises(ValueError, match="explorer mode"):
        exp.widgets_available("interactive")


def test_bad_choices_are_named(setup):
    view, ids = setup
    with pytest.raises(ValueError, match="model: 'c'"):
        view.row(exp.Choice(video=ids[0], model="c"))
    with pytest.raises(ValueError, match="video: 'nope'"):
        view.row(exp.Choice(video="nope", model="a"))
    with pytest.raises(ValueError, match="gamma and tau"):
        view.row(exp.Choice(video=ids[0], model="a", tau=-1.0))
    with pytest.raises(ValueError, match="models"):
        exp.AlignmentExplorer({}, view.tokenizer, view.paths, ids)
