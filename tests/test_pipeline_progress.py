"""Progress of `reproduce`: run events and the ETA from past timings (experiments/progress.py), the live line,
warnings shown once per distinct message with a count, the notebook's output routed (pipeline/progress.py)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from vttwins.companion.experiments import progress as pr
from vttwins.companion.pipeline import progress as pp

VOCAB = (
    "vttwins.companion.evaluation.common: youcook2: {} of 340 words ({}.0%, 10 distinct) are not in the model's "
    "vocabulary and are dropped"
)


def test_a_repeated_warning_is_shown_once_and_counted():
    seen = pp.WarningCounter()
    lines = ["2026-12-04 08:41:31,059 " + VOCAB.format(n, n % 7) for n in range(91)]
    shown = [line for line in lines if seen.first(line)]
    shown += [line for line in ["other: disk almost full", "other: disk almost full"] if seen.first(line)]
    assert len(shown) == 2 and shown[0].endswith("distinct) are not in the model's vocabulary and are dropped")
    assert sorted(seen.repeated()) == [
        (2, "other: disk almost full"),
        (91, "2026-12-04 08:41:31,059 " + VOCAB.format(0, 0)),
    ]
    assert pp.WarningCounter.key("a 1 b 2.5") == "a # b #"
    assert (
        pp.WarningCounter.key("3 words dropped, e.g. toast, lifting")
        == pp.WarningCounter.key("2026-01-01 10:00:00,1 5 words dropped, e.g. some, time")
        == "# words dropped"
    )


def plan_events():
    runs = [
        {"key": "a", "name": "A", "cached": True, "estimate_s": 99.0},
        {"key": "b", "name": "B", "cached": False, "estimate_s": 10.0},
        {"key": "c", "name": "C", "cached": False, "estimate_s": None},
        {"key": "d", "name": "D", "cached": False, "estimate_s": 30.0},
    ]
    return [
        {"event": "plan", "runs": runs},
        {"event": "start", "key": "b", "name": "B", "steps": 150, "time": 100.0},
        {"event": "step", "key": "b", "step": 60, "steps": 150},
    ]


def test_eta_from_past_timings_then_from_this_notebooks_runs():
    t = pr.Tracker()
    t.update(plan_events())
    assert (t.total, t.done, [r.name for r in t.active]) == (4, 1, ["B"])
    # no run finished yet: C takes the mean of the known estimates (10 + 30 + 99) / 3; B has spent 4 of its 10 s
    assert t.eta_s(104.0) == pytest.approx((10 - 4) + (10 + 30 + 99) / 3 + 30)
    t.update(
        [
            {"event": "done", "key": "b", "wall_s": 12.0, "cached": False},
            {"event": "start", "key": "c", "name": "C", "steps": 150, "time": 112.0},
            {"event": "start", "key": "d", "name": "D", "steps": 150, "time": 112.0},
        ]
    )
    # B took 12 s: C (no past time) is estimated at 12; D keeps its own 30; two runs in parallel
    assert t.eta_s(115.0) == pytest.approx(((12 - 3) + (30 - 3)) / 2)
    assert (
        pp.status_line("02_x", t, 115.0, cell=7, cells=23)
        == "02_x · cell 7/23 · runs 2/4 · training C step 0/150 (+1 more) · ETA 18s"
    )
    t.update([{"event": "done", "key": k, "wall_s": 1.0} for k in "cd"])
    assert t.eta_s(200.0) == 0.0 and t.done == t.total == 4


def test_an_unplanned_run_counts_and_an_unknown_time_gives_no_eta():
    t = pr.Tracker()
    t.update([{"event": "start", "key": "x", "name": "X", "steps": 10, "time": 0.0}])
    assert t.total == 1 and t.eta_s(5.0) is None
    assert pp.status_line("01_p", t, 5.0) == "01_p · runs 0/1 · training X step 0/10 · ETA ?"
    assert [pp.duration(s) for s in (None, 5, 61, 3725)] == ["?", "5s", "1m01s", "1h02m"]


def test_events_round_trip_through_the_file(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    pr.emit("start", key="k")  # no file named: nothing written, no error
    monkeypatch.setenv(pr.PROGRESS_ENV, str(path))
    pr.emit("start", key="k", name="n", steps=3)
    with open(path, "a") as f:
        f.write('{"event": "ste')  # a line being written by another process
    events, offset = pr.read_events(path, 0)
    assert [e["event"] for e in events] == ["start"] and events[0]["pid"] == os.getpid()
    with open(path, "a") as f:
        f.write('p", "key": "k", "step": 2}\n')
    more, offset2 = pr.read_events(path, offset)
    assert [e["step"] for e in more] == [2] and offset2 == path.stat().st_size


def test_past_timings_come_from_the_newest_run_of_the_same_name(tmp_path):
    old, new, other = tmp_path / "s2dtw-s1-aaaaaaaaaaaa", tmp_path / "s2dtw-s1-bbbbbbbbbbbb", tmp_path / "s2dtw-s1-x-c"
    for d in (old, new, other):
        d.mkdir()
    pr.record_timing(old, train_s=50.0, eval_s=5.0)
    pr.record_timing(other, train_s=1.0)
    pr.record_timing(new, train_s=7.0)
    pr.record_timing(new, eval_s=2.5)
    os.utime(old / pr.TIMING_FILE, (1, 1))
    assert json.loads((new / pr.TIMING_FILE).read_text()) == {"eval_s": 2.5, "train_s": 7.0}
    assert pr.past_seconds(tmp_path, "s2dtw-s1") == pytest.approx(9.5)
    assert pr.past_seconds(tmp_path, "s2dtw") is None and pr.past_seconds(tmp_path / "none", "x") is None


def test_ensure_run_reports_start_steps_done_and_records_its_time(tmp_path, monkeypatch):
    from vttwins.companion.config import load_config
    from vttwins.companion.experiments import runs

    def fake_fit(cfg, callbacks=()):
        out = tmp_path / "runs" / os.path.basename(cfg.train.output_dir)
        out.mkdir(parents=True)
        for step in (1, 2, 3):
            for cb in callbacks:
                cb({"step": step, "loss": 1.0, "lr": 0.1})
        (out / "model.pt").write_bytes(b"x")
        return out

    monkeypatch.setattr(runs, "fit", fake_fit)
    monkeypatch.setattr(runs, "ensure_data", lambda cfg: None)
    monkeypatch.setenv(pr.PROGRESS_ENV, str(tmp_path / "p.jsonl"))
    cfg = load_config("smoke", ["train.steps=3"])
    run_dir = runs.ensure_run(cfg, tmp_path / "runs", "s2dtw-s1")
    assert runs.ensure_run(cfg, tmp_path / "runs", "again") == run_dir
    events, _ = pr.read_events(tmp_path / "p.jsonl", 0)
    assert [e["event"] for e in events] == ["start", "step", "done", "done"]  # steps: at most one a second
    assert events[0]["steps"] == 3 and events[1]["step"] == 1 and [e["cached"] for e in events[2:]] == [False, True]
    assert json.loads((run_dir / pr.TIMING_FILE).read_text())["train_s"] >= 0


class Lines(pp.LiveLine):
    def __init__(self):
        super().__init__(tty=False)
        self.lines, self.statuses = [], []

    def line(self, text):
        self.lines.append(text)

    def set(self, status, now):
        self.statuses.append(status)


@pytest.mark.parametrize("log_output", [False, True])
def test_follow_routes_the_notebooks_output_and_counts_warnings(tmp_path, caplog, log_output, monkeypatch):
    monkeypatch.delenv(pr.PROGRESS_ENV, raising=False)
    pm_log, live = logging.getLogger("papermill"), Lines()
    with caplog.at_level(logging.INFO, logger="vttwins.companion.pipeline.runner"):
        with pp.follow_notebook("02_x", cells=5, log_output=log_output, live=live, show=False) as follow:
            path = os.environ[pr.PROGRESS_ENV]
            pm_log.info("Executing Cell 3---------")
            pm_log.info("vttwins.companion.training.loop: step 5/150 loss 2.7\n")
            pm_log.warning(VOCAB.format(3, 1) + "\n" + VOCAB.format(4, 1) + "\n")
            pm_log.warning(VOCAB.format(5, 2) + "\n")
            pr.emit("plan", runs=[{"key": "k", "name": "K", "cached": False, "estimate_s": 20.0}])
            assert follow.poll() == "02_x · cell 3/5 · runs 0/1 · ETA 20s"
    assert os.environ.get(pr.PROGRESS_ENV) is None and not os.path.exists(path)
    expected = ["02_x: " + VOCAB.format(3, 1)]
    if log_output:
        expected.insert(0, "02_x | vttwins.companion.training.loop: step 5/150 loss 2.7")
    assert live.lines == expected
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "02_x: 3 x " + VOCAB.format(3, 1)
    ]


def test_a_real_notebook_streams_its_output_and_progress_through_papermill(tmp_path, monkeypatch, caplog):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("papermill")
    from vttwins.companion import pipeline

    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "vttwins", "language": "python", "display_name": "vttwins"}}
    )
    code = (
        "import sys\nfrom vttwins.companion.experiments import progress\n"
        "progress.emit('start', key='k', name='K', steps=4)\nprint('hello from the kernel')\n"
        "for n in range(3):\n    print(f'no vocabulary for {n} words', file=sys.stderr)"
    )
    nb.cells = [
        nbformat.v4.new_code_cell("x: int = 1  # help", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, str(tmp_path / "nb" / "00_talk.ipynb"))
    monkeypatch.setattr(pipeline.runner, "NOTEBOOK_DIR", tmp_path / "nb")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(Path(pipeline.__file__).parents[2]), os.environ.get("PYTHONPATH", "")])
    )
    executed, live = tmp_path / "00_talk.ipynb", Lines()
    with caplog.at_level(logging.INFO, logger="vttwins.companion.pipeline.runner"):
        with pp.follow_notebook("00_talk", cells=3, log_output=True, live=live, show=False) as follow:
            pipeline.run_notebook(
                pipeline.NotebookSpec("00_talk", "talks"), {"x": 2}, executed, timeout_s=120, log_output=True
            )
            assert follow.poll().startswith("00_talk · cell ") and "runs 0/1 · training K step 0/4" in follow.status
    assert "00_talk | hello from the kernel" in live.lines
    assert [line for line in live.lines if "vocabulary" in line] == ["00_talk: no vocabulary for 0 words"]
    assert "00_talk: 3 x no vocabulary for 0 words" in [r.getMessage() for r in caplog.records]


def test_the_kernels_own_stderr_echo_is_kept_off_the_terminal(tmp_path, monkeypatch, capfd):
    """ipykernel echoes a worker process's stderr on the kernel's fd 2 as well: with `kernel_log` that goes to a
    file, while the line still reaches us once through papermill."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("papermill")
    from vttwins.companion import pipeline

    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "vttwins", "language": "python", "display_name": "vttwins"}}
    )
    code = (
        "import subprocess, sys\nfor _ in range(2):\n    subprocess.run([sys.executable, '-c', "
        "\"import logging; logging.getLogger('w').warning('a worker warns')\"])\n"
        "import time; time.sleep(1.5)  # the kernel forwards fd-level output from a thread"
    )
    nb.cells = [
        nbformat.v4.new_code_cell("x: int = 1  # help", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(code),
    ]
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, str(tmp_path / "nb" / "00_w.ipynb"))
    monkeypatch.setattr(pipeline.runner, "NOTEBOOK_DIR", tmp_path / "nb")
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # ipykernel watches fd-level output only outside pytest
    live = Lines()
    with pp.follow_notebook("00_w", log_output=False, live=live, show=False, kernel_log=tmp_path / "k.log"):
        pipeline.run_notebook(
            pipeline.NotebookSpec("00_w", "w"), {"x": 2}, tmp_path / "out.ipynb", timeout_s=120, log_output=True
        )
    assert live.lines == ["00_w: a worker warns"]
    assert "a worker warns" not in capfd.readouterr().err
    assert (tmp_path / "k.log").read_text().count("a worker warns") == 2


def test_a_run_slower_than_its_estimate_is_timed_by_its_own_pace():
    """01's pixel run outlived its estimate: the ETA read 0 s at step 302/400; its own pace says 98/302 of 60 s."""
    t = pr.Tracker()
    t.update(
        [
            {"event": "plan", "runs": [{"key": "p", "name": "P", "cached": False, "estimate_s": 10.0}]},
            {"event": "start", "key": "p", "name": "P", "steps": 400, "time": 0.0},
            {"event": "step", "key": "p", "step": 302, "steps": 400},
        ]
    )
    assert t.eta_s(60.0) == pytest.approx(60.0 * 98 / 302)
