"""vttwins.models — encoders (S3D-G, word2vec sentence encoder, feature-mode head), tokenizer, checkpoints.

    from vttwins.models import ModelConfig, Tokenizer, build_model
    tok = Tokenizer.from_corpus(captions)
    model = build_model(ModelConfig(mode="feature"), vocab=tok.words)
    v, t = model(feats, tok(sentences), normalize=True)

Names resolve lazily (`vttwins.exports`).
"""

from vttwins.exports import lazy_exports

_CHECKPOINTS, _TEXT = "vttwins.models.checkpoints", "vttwins.models.text"
__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "load_checkpoint": _CHECKPOINTS,
        "load_pretrained": _CHECKPOINTS,
        "save_checkpoint": _CHECKPOINTS,
        "FeatureVideoEncoder": "vttwins.models.heads",
        "ModelConfig": "vttwins.models.model",
        "VideoTextModel": "vttwins.models.model",
        "build_model": "vttwins.models.model",
        "S3D": "vttwins.models.s3dg",
        "SentenceEncoder": _TEXT,
        "Tokenizer": _TEXT,
        "glove_available": _TEXT,
        "glove_table": _TEXT,
        "load_word2vec": _TEXT,
    },
)
