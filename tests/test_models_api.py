"""VideoTextModel / ModelConfig / build_model / FeatureVideoEncoder: the contract in CONTRIBUTING.md."""

import pytest
import torch

from vttwins.models import FeatureVideoEncoder, ModelConfig, VideoTextModel, build_model

WORDS = ["cut", "the", "onion", "fry"]


@pytest.fixture(scope="module")
def feature_model():
    torch.manual_seed(0)
    return build_model(
        ModelConfig(mode="feature", feature_dim=32, hidden=16, embed_dim=8, text_hidden=12), vocab=WORDS
    ).eval()


@pytest.fixture(scope="module")
def pixel_model():
    torch.manual_seed(0)
    return build_model(ModelConfig(mode="pixel", width=0.125, embed_dim=8), vocab=WORDS).eval()


def test_feature_mode_shapes_and_normalisation(feature_model):
    m = feature_model
    assert isinstance(m, VideoTextModel) and m.mode == "feature" and m.feature_dim == 16
    feats, tokens = torch.randn(3, 4, 32), torch.tensor([[1, 2, 3, 0], [4, 0, 0, 0]])
    v, t = m(feats, tokens, normalize=True)
    assert v.shape == (3, 8) and t.shape == (2, 8)
    assert torch.allclose(v.norm(dim=1), torch.ones(3)) and torch.allclose(t.norm(dim=1), torch.ones(2))
    raw = m.encode_video(feats)
    assert torch.allclose(torch.nn.functional.normalize(raw, dim=1), v)
    assert m.video_features(feats).shape == (3, 16)
    single = m.encode_video(feats[:, 0])  # (B, F) is a window of one vector
    assert torch.allclose(single, m.encode_video(feats[:, :1]))


@pytest.mark.parametrize(
    "bad", [torch.randn(3, 4, 31), torch.randn(4, 32, 1, 1), torch.zeros(3, 4, 32, dtype=torch.long)]
)
def test_feature_mode_rejects_bad_shapes(feature_model, bad):
    with pytest.raises(ValueError, match="features"):
        feature_model.encode_video(bad)


@pytest.mark.parametrize("temporal", ["mean", "max", "conv", "attention"])
def test_feature_encoder_temporal_variants(temporal):
    enc = FeatureVideoEncoder(in_dim=6, embed_dim=4, hidden=5, temporal=temporal)
    x = torch.randn(2, 3, 6, requires_grad=True)
    out = enc(x)
    out.sum().backward()
    assert out.shape == (2, 4) and x.grad is not None
    if temporal in ("mean", "max", "attention"):  # order-invariant pools
        assert torch.allclose(enc(x.flip(1)), out, atol=1e-6)


def test_pixel_mode_uint8_equals_float(pixel_model):
    m = pixel_model
    assert m.mode == "pixel" and m.feature_dim == 128
    video = torch.randint(0, 256, (2, 3, 8, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        a = m.encode_video(video, normalize=True)
        b = m.encode_video(video.float() / 255, normalize=True)
        f = m.video_features(video)
    assert a.shape == (2, 8) and f.shape == (2, 128) and torch.allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.encode_video(video.float())
    with pytest.raises(ValueError, match="B, 3, T, H, W"):
        m.encode_video(torch.rand(2, 8, 32, 32))


def test_text_checks(feature_model):
    with pytest.raises(ValueError, match="int64"):
        feature_model.encode_text(torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        feature_model.encode_text(torch.tensor([[7]]))


def test_config_validation():
    with pytest.raises(ValueError, match="mode"):
        ModelConfig(mode="audio")
    with pytest.raises(ValueError, match="temporal"):
        ModelConfig(temporal="lstm")
    with pytest.raises(ValueError, match="width"):
        ModelConfig(width=0)
    with pytest.raises(ValueError, match="embed_dim"):
        ModelConfig(embed_dim=0)
    with pytest.raises(ValueError, match="bogus"):
        ModelConfig.from_dict({"mode": "pixel", "bogus": 1})
    with pytest.raises(ValueError, match="ModelConfig"):
        build_model({"mode": "feature"})
    cfg = ModelConfig.from_dict({"mode": "pixel", "width": 0.5})
    assert cfg.to_dict()["width"] == 0.5 and ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_build_model_resolves_vocab_and_keeps_caller_config():
    cfg = ModelConfig(hidden=8, text_hidden=8)
    model = build_model(cfg, vocab=WORDS)
    assert model.config.vocab_size == 5 and cfg.vocab_size == 66250  # the caller's config is not mutated
    assert model.text_encoder.word_embd.weight.shape == (5, 300)
    assert not model.text_encoder.word_embd.weight.requires_grad
    trainable = build_model(ModelConfig(hidden=8, text_hidden=8, freeze_words=False), vocab=WORDS)
    assert trainable.text_encoder.word_embd.weight.requires_grad
