"""Checkpoint formats of docs/formats.md (made here) load into S3D / VideoTextModel; mismatches fail loudly."""

import os

import pytest
import torch

from vttwins.models import ModelConfig, S3D, build_model, load_checkpoint, load_pretrained, save_checkpoint
from vttwins.models.checkpoints import CheckpointMismatch, checkpoint_state

WIDTH = 0.25
VIDEO = torch.rand(2, 3, 8, 32, 32, generator=torch.Generator().manual_seed(0))
TOKENS = torch.tensor([[3, 1, 4, 0], [5, 9, 2, 6]])


def _randomise(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand_like(t) + 0.5 if "running_var" in name else torch.randn_like(t) * 0.1)
    return model.eval()


def _outputs(model):
    with torch.no_grad():
        return model(VIDEO, TOKENS)


@pytest.fixture(scope="module")
def source():
    return _randomise(S3D(width=WIDTH, vocab_size=10, space_to_depth=True))


@pytest.fixture(scope="module")
def reference(source):
    return _outputs(source)


FORMATS = {
    "flat": lambda sd: sd,  # MIL-NCE s3d_howto100m.pth
    "module": lambda sd: {f"module.{k}": v for k, v in sd.items()},  # VT-TWINS pretrained.pth.tar
    "training": lambda sd: {
        "epoch": 3,
        "state_dict": {f"module.{k}": v for k, v in sd.items()},
        "optimizer": {"state": {}, "param_groups": []},
        "scheduler": {"last_epoch": 3},
    },
    "project": lambda sd: {"model": sd, "config": {"width": WIDTH}, "step": 7, "vocab": ["a"] * 9},
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("target", ["s3d", "videotext"])
def test_round_trip_each_format(tmp_path, source, reference, fmt, target):
    torch.save(FORMATS[fmt](source.state_dict()), tmp_path / "ckpt.pth")
    if target == "s3d":
        model = S3D(width=WIDTH, vocab_size=10, space_to_depth=False).eval()  # stem switched by the loader
    else:
        model = build_model(ModelConfig(mode="pixel", width=WIDTH, vocab_size=10)).eval()
    report = load_pretrained(model, tmp_path / "ckpt.pth")
    assert report.missing == [] and report.unexpected == []
    ref_v, ref_t = reference
    v, t = _outputs(model) if target == "s3d" else (model.encode_video(VIDEO), model.encode_text(TOKENS))
    assert torch.equal(v, ref_v) and torch.equal(t, ref_t)
    if target == "videotext":
        assert model.config.space_to_depth is True


def test_public_full_width_layouts_load_strict(tmp_path):
    """Both public stems at full width: MIL-NCE (flat, space-to-depth) and VT-TWINS (module., plain)."""
    milnce = S3D(space_to_depth=True)
    torch.save(milnce.state_dict(), tmp_path / "s3d_howto100m.pth")
    model = build_model(ModelConfig(mode="pixel"))
    load_pretrained(model, tmp_path / "s3d_howto100m.pth")
    assert model.s3d.space_to_depth and all(
        torch.equal(a, b) for a, b in zip(model.s3d.state_dict().values(), milnce.state_dict().values())
    )
    milnce.set_stem(False)
    torch.save({f"module.{k}": v for k, v in milnce.state_dict().items()}, tmp_path / "pretrained.pth.tar")
    load_pretrained(model, tmp_path / "pretrained.pth.tar")
    assert not model.s3d.space_to_depth and not model.config.space_to_depth
    assert torch.equal(model.s3d.conv1.conv1.weight, milnce.conv1.conv1.weight)


@pytest.mark.parametrize("mode", ["feature", "pixel"])
def test_project_checkpoint_rebuilds_model_and_vocab(tmp_path, mode):
    words = ["cut", "the", "onion"]
    over = dict(temporal="conv", hidden=32, feature_dim=16) if mode == "feature" else dict(width=0.125)
    model = _randomise(build_model(ModelConfig(mode=mode, **over), vocab=words))
    path = save_checkpoint(tmp_path / "run" / "last.pt", checkpoint_state(model, step=11, vocab=words))
    state = load_checkpoint(path)
    assert state["step"] == 11 and state["vocab"] == words and state["config"]["mode"] == mode
    again = build_model(ModelConfig(mode=mode, checkpoint=str(path), **over)).eval()
    feats = torch.randn(3, 4, 16) if mode == "feature" else VIDEO
    tokens = torch.tensor([[1, 2, 3]])
    assert again.config.vocab_size == 4
    assert torch.equal(again.encode_video(feats), model.encode_video(feats))
    assert torch.equal(again.encode_text(tokens), model.encode_text(tokens))


def test_wrong_shape_and_missing_key_are_named(tmp_path, source):
    sd = dict(source.state_dict())
    sd["fc.weight"] = torch.zeros(7, 3)
    del sd["mixed_4c.gating_b2.fc.bias"]
    torch.save(sd, tmp_path / "bad.pth")
    model = S3D(width=WIDTH, vocab_size=10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatch) as err:
        load_pretrained(model, tmp_path / "bad.pth")
    msg = str(err.value)
    assert "bad.pth" in msg and "fc.weight: checkpoint [7, 3] vs model [512, 256]" in msg
    assert "1 missing: mixed_4c.gating_b2.fc.bias" in msg
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing was loaded


def test_unexpected_keys_and_width_hint(tmp_path, source):
    torch.save({**source.state_dict(), "extra.weight": torch.zeros(1)}, tmp_path / "x.pth")
    with pytest.raises(CheckpointMismatch, match="1 unexpected: extra.weight"):
        load_pretrained(S3D(width=WIDTH, vocab_size=10), tmp_path / "x.pth")
    with pytest.raises(CheckpointMismatch, match="width=0.5"):
        load_pretrained(build_model(ModelConfig(mode="pixel", width=0.5, vocab_size=10)), tmp_path / "x.pth")


def test_non_strict_partial_load_reports_what_is_left(tmp_path, source):
    text_only = {k: v for k, v in source.state_dict().items() if k.startswith("text_module.")}
    model = build_model(ModelConfig(mode="feature", vocab_size=10, hidden=8))
    with pytest.raises(CheckpointMismatch, match="missing"):
        load_pretrained(model, text_only)
    report = load_pretrained(model, text_only, strict=False)
    assert report.missing and all(k.startswith("video.") for k in report.missing)
    assert torch.equal(model.text_module.fc1.weight, source.text_module.fc1.weight)


def test_save_is_atomic_and_load_names_missing_file(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(2)}, "step": 1})

    def broken_save(obj, f, *a, **k):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"model": {"w": torch.zeros(2)}, "step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1  # the old file is intact
    assert os.listdir(tmp_path) == ["c.pt"]  # no temp file left behind
    with pytest.raises(FileNotFoundError, match="nothere.pt"):
        load_checkpoint(tmp_path / "nothere.pt")
    with pytest.raises(ValueError, match="not a recognised checkpoint"):
        load_pretrained(S3D(width=0.0625, vocab_size=5), {"epoch": 1})
