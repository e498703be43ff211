"""pipeline.world: `reproduce --world` parses, validates, reaches the ablation's resolved config, keeps results/."""

import json

import pytest

from vttwins.companion import pipeline
from vttwins.paths import DEFAULT_RESULTS_DIR, RUNS_DIR
from vttwins.companion.pipeline import runner, world

AB = "02_ablation_dtw_variants"
TEXT = "seed=777,offset_std=5,filler_rate=0.25,narrate_prob=0.7"


def test_parse_world_into_synth_overrides_and_a_derived_name():
    name, synth = world.parse_world(TEXT)
    assert name == "s777-o5-f0.25-n0.7"
    assert synth == {"seed": 777, "noise": {"offset_std": 5.0, "filler_rate": 0.25, "narrate_prob": 0.7}}
    assert world.parse_world("seed=3, name=mine") == ("mine", {"seed": 3})
    assert world.parse_world("filler_rate=0") == ("f0", {"noise": {"filler_rate": 0.0}})


@pytest.mark.parametrize(
    "text, needle",
    [
        ("seed=1,loudness=3", "unknown key 'loudness'"),
        ("seed=abc", "'abc' is not a int"),
        ("seed", "key=value"),
        ("filler_rate=1.5", "filler_rate"),
        ("narrate_prob=-0.1", "narrate_prob"),
        ("name=x", "at least one"),
        ("seed=1,name=../up", "name must be"),
        ("seed=-2", "seed must be >= 0"),
    ],
)
def test_bad_worlds_are_refused_naming_the_key(text, needle):
    with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
        world.parse_world(text)


def test_add_worlds_appends_after_the_profiles_and_refuses_a_clashing_name():
    params = {"worlds": {"default": {}, "b": {"seed": 2}}, "seeds": 5}
    out = world.add_worlds(params, [world.parse_world(TEXT)])
    assert list(out["worlds"]) == ["default", "b", "s777-o5-f0.25-n0.7"] and params["worlds"].keys() == {"default", "b"}
    assert world.add_worlds({"seeds": 1}, [world.parse_world(TEXT)]) == {"seeds": 1}  # no worlds parameter
    assert world.add_worlds(params, [("b", {"seed": 2})]) == params  # the same world again
    with pytest.raises(ValueError, match="name 'b' is already a world"):
        world.add_worlds(params, [("b", {"seed": 3})])


@pytest.mark.parametrize("profile", ["smoke", "default"])
def test_world_reaches_the_ablations_resolved_config_and_results_leave_results_dir(monkeypatch, profile):
    from vttwins.companion.experiments import fair
    from vttwins.companion.training.builders import synth_config

    monkeypatch.setenv(pipeline.PROFILE_ENV, profile)
    monkeypatch.delenv(pipeline.RESULTS_ENV, raising=False)
    monkeypatch.setenv(world.WORLD_ENV, world.to_env([world.parse_world(TEXT)]))
    ctx = pipeline.resolve(AB, dict(pipeline.notebook_defaults(AB)))
    assert list(ctx.worlds)[0] == "default" and "s777-o5-f0.25-n0.7" in ctx.worlds
    assert ctx.results_dir == RUNS_DIR / profile / "results"  # never the committed results/
    cfg = fair.world_config(ctx.config(ctx.run_overrides), "s777-o5-f0.25-n0.7", ctx.worlds["s777-o5-f0.25-n0.7"])
    synth = synth_config(cfg)  # what the generator will be given
    assert (synth.seed, synth.noise.offset_std, synth.noise.filler_rate, synth.noise.narrate_prob) == (
        777,
        5.0,
        0.25,
        0.7,
    )
    assert cfg.data.root.endswith("-s777-o5-f0.25-n0.7")
    monkeypatch.setenv(world.WORLD_ENV, "")
    plain = pipeline.resolve(AB, dict(pipeline.notebook_defaults(AB)))
    assert "s777-o5-f0.25-n0.7" not in plain.worlds
    assert plain.results_dir == (DEFAULT_RESULTS_DIR if profile == "default" else RUNS_DIR / profile / "results")


def test_run_pipeline_passes_the_world_to_the_kernels_and_refuses_results_dir(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(
        runner,
        "run_notebook",
        lambda nb, params, executed, timeout_s, **kw: seen.append(
            json.loads(__import__("os").environ[world.WORLD_ENV])
        ),
    )
    monkeypatch.setattr(runner, "check_outputs", lambda nb, results_dir: [])
    monkeypatch.setattr(runner, "run_source_digest", lambda: "x")
    runner.run_pipeline("smoke", tmp_path, only=[AB], worlds=[TEXT], write_readme=False)
    assert seen == [[["s777-o5-f0.25-n0.7", world.parse_world(TEXT)[1]]]]
    with pytest.raises(ValueError, match="added world"):
        runner.run_pipeline("default", DEFAULT_RESULTS_DIR, only=[AB], worlds=[TEXT], write_readme=False)
    with pytest.raises(ValueError, match="unknown key"):
        runner.run_pipeline("smoke", tmp_path, only=[AB], worlds=["loud=1"], write_readme=False)
    assert len(seen) == 1  # neither refused run started a notebook


def test_cli_accepts_world_and_defaults_its_results_to_runs(monkeypatch):
    calls = {}
    monkeypatch.setattr(pipeline.cli, "run_pipeline", lambda *a, **k: calls.update(args=a, kw=k) or [])
    assert pipeline.cli_main(["--profile", "default", "--world", TEXT, "--only", AB]) == 0
    assert calls["kw"]["worlds"] == [TEXT] and calls["args"] == ("default", None)
