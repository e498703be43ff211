"""Evaluation windows (vttwins.companion.evaluation.windows): the docs/method.md §8 start rules and WindowSource in both modes."""

from __future__ import annotations

import numpy as np
import pytest

from test_data_common import TINY
from vttwins.data import read_howto_csv
from vttwins.companion.synth import generate
from vttwins.companion.evaluation import EvalConfig
from vttwins.companion.evaluation.common import guarded
from vttwins.companion.evaluation.windows import WindowSource, centered_starts, even_starts, youcook2_starts

HOWTO_ONLY = dict(howto_videos=2, youcook2_videos=0, msrvtt_videos=0, crosstask_videos=0, action_clips_per_class=0)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("howto"), TINY.replace(**HOWTO_ONLY), workers=1)


def test_start_rules_by_hand():
    assert np.allclose(youcook2_starts(2.0, 12.0, 3, 3.2), [2.0, 5.2, 8.4])  # linspace(s, max(s, e-3.2-0.4), n)
    assert np.allclose(youcook2_starts(5.0, 6.0, 2, 3.2), [5.0, 5.0])  # short clip: all at its start
    assert np.allclose(even_starts(10.0, 3, 4.0), [0.0, 3.0, 6.0])
    assert np.allclose(centered_starts(np.array([0, 5, 9]), 4.0, 10.0), [0.0, 3.5, 6.0])  # clamped to the video


def test_window_source_both_modes_and_missing_files(synth):
    vid = read_howto_csv(synth.howto_csv).video_id[0]
    starts = youcook2_starts(2.0, 12.0, 3, 3.2)
    feat = WindowSource(EvalConfig(), "feature", features=synth.howto_features)
    assert feat.windows(vid, starts).shape == (3, 4, 1024)
    pix = WindowSource(EvalConfig(num_frames=4, fps=4.0, size=16), "pixel", videos=synth.howto_videos)
    assert pix.windows(vid, starts).shape == (3, 3, 4, 16, 16)
    with pytest.raises(FileNotFoundError, match="gone"):
        feat.windows("gone", starts)
    with pytest.raises(FileNotFoundError, match="feature folder"):
        WindowSource(EvalConfig(), "feature", features=synth.root / "nope")
    # on_error="skip": an unreadable item is logged and dropped (None), never replaced
    assert guarded(EvalConfig(on_error="skip"), "gone", lambda: feat.windows("gone", starts)) is None
