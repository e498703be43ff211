"""vttwins.models — encoders (S3D-G, word2vec sentence encoder, feature-mode head), tokenizer, checkpoints.

    from vttwins.models import ModelConfig, Tokenizer, build_model
    tok = Tokenizer.from_corpus(captions)
    model = build_model(ModelConfig(mode="feature"), vocab=tok.words)
    v, t = model(feats, tok(sentences), normalize=True)
"""
from vttwins.models.checkpoints import load_checkpoint, load_pretrained, save_checkpoint
from vttwins.models.heads import FeatureVideoEncoder
from vttwins.models.model import ModelConfig, VideoTextModel, build_model
from vttwins.models.s3dg import S3D
from vttwins.models.text import SentenceEncoder, Tokenizer, glove_available, glove_table, load_word2vec

__all__ = ["S3D", "FeatureVideoEncoder", "ModelConfig", "SentenceEncoder", "Tokenizer", "VideoTextModel",
           "build_model", "glove_available", "glove_table", "load_checkpoint", "load_pretrained",
           "load_word2vec", "save_checkpoint"]
