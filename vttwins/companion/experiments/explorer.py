"""The alignment explorer of notebook 07: pick a held-out video, a model (untrained or a trained objective), gamma,
tau, smoothing and the weak lattice; see the cost, the soft alignment and the hard path over the true step match.

    explorer = AlignmentExplorer({"untrained": m0, "S2DTW": m1}, tokenizer, paths, video_ids)
    explorer.figure(video=video_ids[0], model="S2DTW", gamma=0.1, tau=0.5, smooth=True, weak=True)  # static
    explorer.show()       # widgets in JupyterLab (a live kernel behind a widget-aware front end), else the figure

Embeddings are computed once per (model, video); every redraw only runs the alignment (an 8 x 8 lattice: ms).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from .examples import alignment_row, embed_sequences, step_truth

SESSION_ENV = "JPY_SESSION_NAME"  # set by jupyter_server for the kernels of its sessions (JupyterLab, Notebook 7)
MODES = ("auto", "widgets", "static")


@dataclass(frozen=True)
class Choice:
    """One setting of the explorer (what its widgets hold)."""

    video: str
    model: str
    gamma: float = 0.1
    tau: float = 0.5
    smooth: bool = True
    weak: bool = True
    smooth_gamma: float = 0.1

    def label(self) -> str:
        kind = ("S2DTW lattice" if self.weak else "soft-DTW") + (" + smoothing" if self.smooth else "")
        tau = f", tau={self.tau:g}" if self.weak else ""
        return f"{self.video} · {self.model} · {kind} (gamma={self.gamma:g}{tau})"


def widgets_available(mode: str = "auto") -> bool:
    """Whether `show` draws widgets: `mode` "widgets"/"static" force it; "auto" asks whether this kernel was started
    by a Jupyter server session (JupyterLab) rather than by papermill/nbclient/nbval, where no front end renders them."""
    if mode not in MODES:
        raise ValueError(f"explorer mode must be one of {MODES}, got {mode!r}")
    if mode != "auto":
        return mode == "widgets"
    return bool(os.environ.get(SESSION_ENV))


class AlignmentExplorer:
    def __init__(
        self,
        models: Mapping[str, object],
        tokenizer,
        paths,
        video_ids: Sequence[str],
        n_clips: int = 8,
        window: int = 4,
    ):
        if not models:
            raise ValueError("models: give at least one model to explore")
        if not video_ids:
            raise ValueError("video_ids: give at least one held-out video")
        self.models, self.tokenizer, self.paths = dict(models), tokenizer, paths
        self.video_ids, self.n_clips, self.window = list(video_ids), n_clips, window
        self._embedded: dict[tuple[str, str], tuple] = {}

    def _inputs(self, model: str, video: str):
        if model not in self.models:
            raise ValueError(f"model: {model!r} is not one of {sorted(self.models)}")
        if video not in self.video_ids:
            raise ValueError(f"video: {video!r} is not one of the explorer's {len(self.video_ids)} videos")
        key = (model, video)
        if key not in self._embedded:
            v, t, caps, ann = embed_sequences(
                self.models[model], self.tokenizer, self.paths, video, self.n_clips, self.window
            )
            self._embedded[key] = (v, t, step_truth(caps, ann, self.window))
        return self._embedded[key]

    def row(self, choice: Choice) -> tuple[dict, dict]:
        """The panel row (plots.alignment_panels) and hard-path statistics of one setting."""
        if choice.gamma < 0 or choice.tau < 0 or choice.smooth_gamma <= 0:
            raise ValueError(f"gamma and tau must be >= 0 and smooth_gamma > 0, got {choice}")
        v, t, truth = self._inputs(choice.model, choice.video)
        return alignment_row(
            v,
            t,
            truth,
            choice.label(),
            gamma=choice.gamma,
            smooth=choice.smooth,
            weak=choice.weak,
            smooth_gamma=choice.smooth_gamma,
            tau=choice.tau,
        )

    def figure(self, **choice):
        """Cost, soft alignment (with skip bars on the weak lattice) and hard path over the truth of one setting."""
        from vttwins.companion import plots  # deferred: matplotlib, scipy, seaborn

        c = Choice(**choice)
        row, stat = self.row(c)
        return plots.alignment_panels([row], title=_stat_line(stat))

    def widget(self, **initial):
        """ipywidgets: video, model, gamma, tau, smoothing, weak lattice; each change redraws the figure."""
        import ipywidgets as w
        import matplotlib.pyplot as plt
        from IPython.display import display

        c = Choice(**{"video": self.video_ids[0], "model": next(iter(self.models)), **initial})
        controls = {
            "video": w.Dropdown(options=self.video_ids, value=c.video, description="video"),
            "model": w.Dropdown(options=list(self.models), value=c.model, description="model"),
            "gamma": w.FloatLogSlider(
                value=max(c.gamma, 1e-3), base=10, min=-3, max=0.5, step=0.1, description="γ", readout_format=".3f"
            ),
            "tau": w.FloatSlider(value=c.tau, min=0.0, max=2.0, step=0.05, description="τ (skip)"),
            "smooth": w.Checkbox(value=c.smooth, description="local smoothing"),
            "weak": w.Checkbox(value=c.weak, description="weak lattice (skips)"),
        }
        out = w.Output()

        def redraw(**values):
            with out:
                out.clear_output(wait=True)
                fig = self.figure(**values, smooth_gamma=c.smooth_gamma)
                display(fig)
                plt.close(fig)

        w.interactive_output(redraw, controls)
        box = w.VBox(
            [
                w.HBox([controls["video"], controls["model"]]),
                w.HBox([controls["gamma"], controls["tau"]]),
                w.HBox([controls["smooth"], controls["weak"]]),
                out,
            ]
        )
        return box

    def show(self, mode: str = "auto", **initial) -> str:
        """Display widgets where a front end can render them, else the static figure of `initial`; says which."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        if widgets_available(mode):
            display(self.widget(**initial))
            return "widgets"
        fig = self.figure(**{"video": self.video_ids[0], "model": next(iter(self.models)), **initial})
        display(fig)
        plt.close(fig)
        return "static"


def _stat_line(stat: dict) -> str:
    return (
        f"hard path: {stat['matched_pairs']} pairs, {100 * stat['precision']:.0f}% on a true step match "
        f"({stat['true_pairs']} true pairs); skipped {stat['skipped_clips']} clips, "
        f"{stat['skipped_captions']} captions"
    )
