"""config.py: profiles load, overrides apply with types, every unknown key is named, round trip is exact."""

import dataclasses
import hashlib
import json
import re

import pytest

from vttwins import objectives
from vttwins.companion.config import (
    Config,
    OptimConfig,
    config_from_dict,
    config_to_dict,
    load_config,
    parse_override,
    replace,
    validate,
)
from vttwins.companion.benchmarks import registry
from vttwins.companion.evaluation.config import EvalConfig


@pytest.mark.parametrize("profile", ["smoke", "default", "paper"])
def test_profiles_load_and_round_trip(profile):
    config = load_config(profile)
    assert isinstance(config, Config)
    plain = config_to_dict(config)
    json.dumps(plain)  # JSON-ready
    assert config_to_dict(config_from_dict(plain)) == plain


def test_paper_profile_is_method_section_7():
    c = load_config("paper")
    assert (c.model.mode, c.data.n_clips, c.data.num_frames, c.data.fps, c.data.size) == ("pixel", 8, 32, 10.0, 224)
    assert (c.train.batch_size, c.train.seed, c.optim.lr) == (16, 1, 1e-3)
    assert (c.loss.name, c.loss.gamma, c.loss.smooth_gamma, c.loss.tau, c.loss.tda) == ("s2dtw", 0.1, 0.1, 0.5, False)
    assert c.model.embed_dim == 512 and c.model.max_words == 20 and c.optim.schedule == "cosine"


def test_overrides_list_dict_and_shorthands():
    c = load_config(
        "smoke",
        [
            "train.steps=3",
            "loss.name=mil_nce",
            "loss.gamma=0.05",
            "output_dir=/tmp/x",
            "data_dir=/tmp/d",
            "optim.grad_clip=none",
            "optim.lr=1e-4",
            "data.synth={howto_videos: 30}",
        ],
    )
    assert c.train.steps == 3 and c.loss.name == "mil_nce" and c.loss.gamma == 0.05
    assert c.train.output_dir == "/tmp/x" and c.data.root == "/tmp/d" and c.optim.grad_clip is None
    assert c.data.synth == {"howto_videos": 30} and c.optim.lr == 1e-4
    assert c.loss.normalize is False and c.loss.temperature == 1.0  # MIL-NCE: no normalisation (docs/method.md §6)
    d = load_config("smoke", {"train.steps": 4, "model.embed_dim": 32})
    assert d.train.steps == 4 and d.model.embed_dim == 32
    assert replace(d, ["train.seed=5"]).train.seed == 5


def test_derived_defaults_are_resolved():
    c = load_config("smoke", ["loss.name=clip_nce"])
    assert c.data.root == "data/synth/smoke" and c.loss.temperature == 0.07 and c.loss.normalize is True


@pytest.mark.parametrize(
    "override, needle",
    [
        (["train.stepz=3"], "train.stepz"),
        (["model.embedim=3"], "embedim"),
        (["bogus.x=1"], "bogus"),
        (["eval.windowz=1"], "eval.windowz"),
        (["data.synth={howto_vidoes: 3}"], "data.synth.howto_vidoes"),
        (["data.synth={noise: {offset_sdt: 1.0}}"], "data.synth.noise.offset_sdt"),
    ],
)
def test_unknown_keys_are_named(override, needle):
    with pytest.raises(ValueError, match=needle.replace(".", r"\.")):
        load_config("smoke", override)


def test_unknown_key_lists_the_allowed_ones():
    with pytest.raises(ValueError, match=r"allowed keys in 'train':.*batch_size"):
        load_config("smoke", ["train.bacth_size=3"])


def test_unknown_key_in_a_yaml_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("train:\n  steps: 1\nlos:\n  name: s2dtw\n")
    with pytest.raises(ValueError, match="unknown config section 'los'"):
        load_config(path)


@pytest.mark.parametrize(
    "override, needle",
    [
        (["loss.name=s3dtw"], "loss.name"),
        (["train.steps=abc"], "train.steps"),
        (["train.amp=fp8"], "train.amp"),
        (["train.epochs=2"], "exactly one"),
        (["train.batch_size=0"], "train.batch_size"),
        (["loss.tda=maybe"], "loss.tda"),
        (["model.mode=audio"], "mode"),
    ],
)
def test_bad_values_fail_with_the_key(override, needle):
    with pytest.raises(ValueError, match=needle):
        load_config("smoke", override)


def test_malformed_override_and_missing_profile():
    with pytest.raises(ValueError, match="key=value"):
        parse_override("train.steps")
    with pytest.raises(FileNotFoundError, match="nope"):
        load_config("nope")


def test_notebooks_section_passes_through(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("train:\n  steps: 1\nnotebooks:\n  01_pretrain: {steps: 3}\n")
    assert load_config(path).notebooks == {"01_pretrain": {"steps": 3}}


@pytest.mark.parametrize(
    "override, needle",
    [  # one format: `<key>=<value given>: must be <allowed>`
        ("optim.grad_clip=-1", r"optim\.grad_clip=-1: must be > 0 or null$"),
        ("optim.min_lr_ratio=-5", r"optim\.min_lr_ratio=-5: must be in \[0, 1\]$"),
        ("optim.betas=[0.9, 0.99, 0.5]", r"optim\.betas=\[0\.9, 0\.99, 0\.5\]: must be a list of exactly 2 values"),
        ("optim.betas=[0.9]", r"optim\.betas=\[0\.9\]: must be a list of exactly 2 values"),
        ("optim.betas=[0.9, 1.0]", r"optim\.betas\[1\]=1\.0: must be in \[0, 1\)$"),
        ("data.hflip=2", r"data\.hflip=2: must be in \[0, 1\]$"),
        ("data.clip_seconds=-1", r"data\.clip_seconds=-1: must be > 0$"),
        ("data.crop=diagonal", r"data\.crop='diagonal': must be one of \['random', 'center'\]$"),
        ("train.batch_size=1", r"train\.batch_size=1: must be >= 2 .*identically 0"),
        ("train.steps=abc", r"train\.steps='abc': must be an integer, not a string$"),
        ("train.steps='3'", r"train\.steps='3': must be an integer, not a string$"),
        ("model.embed_dim='3'", r"model\.embed_dim='3': must be an integer$"),
        ("train.resume=null", r"train\.resume=None: must be true or false$"),
        ("train.steps=2.5", r"train\.steps=2\.5: must be an integer or null$"),
        ("train.device=tpu", r"train\.device='tpu': must be auto, cpu, cuda or cuda:N$"),
        ("loss.tau=-0.1", r"loss\.tau=-0\.1: must be >= 0 .*rewards skipping"),
        ("loss.gamma=.nan", r"loss\.gamma=nan: must be a finite number$"),
        ("loss.tda=1", r"loss\.tda=1: must be true or false or null$"),
        ("loss.gamma=true", r"loss\.gamma=True: must be a number, not true/false$"),
        ("loss.name=foo", r"loss\.name='foo': must be one of \[.*'mil_nce'.*'s2dtw'.*\]$"),
        ("eval.max_clips=-1", r"eval\.max_clips=-1: must be >= 1 or null$"),
        ("eval.action_splits=[7]", r"eval\.action_splits\[0\]=7: must be one of \[1, 2, 3\]$"),
        ("eval.tasks=[nope]", r"eval\.tasks=\['nope'\]: must be a subset of \[.*'youcook2'"),
        ("eval.zero_shot_template=x", r"eval\.zero_shot_template='x': must contain '\{\}'"),
        ("model.mode=audio", r"model\.mode='audio': must be one of \('feature', 'pixel'\)$"),
        ("model.embed_dim=0", r"model\.embed_dim=0: must be a positive int$"),
        ("model.space_to_depth=1", r"model\.space_to_depth=1: must be true or false$"),
        ("model.width=true", r"model\.width=True: must be a number$"),
        ("grid.slurm.cluster=moon", r"grid\.slurm\.cluster='moon': must be one of \['slurm', 'local', 'debug'\]$"),
        ("train=3", r"train=3: must be a mapping$"),
    ],
)
def test_ranges_name_the_key_and_the_expected_range(override, needle):
    with pytest.raises(ValueError, match=needle):
        load_config("smoke", [override])


def test_range_edges_are_accepted():
    c = load_config(
        "smoke",
        [
            "optim.min_lr_ratio=1",
            "optim.min_lr_ratio=0",
            "data.hflip=0",
            "loss.tau=0",
            "optim.betas=[0.0, 0.999]",
            "loss.gamma=0",
            "train.batch_size=2",
            "optim.grad_clip=1e-3",
        ],
    )
    assert c.optim.betas == (0.0, 0.999) and c.loss.tau == 0.0 and c.optim.grad_clip == 1e-3


def test_a_user_yaml_extends_a_profile_with_base_or_is_told_it_sits_on_code_defaults(tmp_path, caplog):
    """`base: default` starts from configs/default.yaml (lr 2e-4, 128-d); without it the code defaults apply
    (lr 1e-3, 512-d), and one INFO line says so and suggests `base: default`."""
    mine = tmp_path / "my.yaml"
    mine.write_text("base: default\nmodel: {feature_dim: 32}\ntrain: {steps: 7}\n")
    c = load_config(mine)
    assert (c.optim.lr, c.model.embed_dim, c.optim.warmup_steps) == (2e-4, 128, 10)  # configs/default.yaml
    assert (c.model.feature_dim, c.train.steps, c.train.batch_size) == (32, 7, 16)  # merged key by key
    bare = tmp_path / "bare.yaml"
    bare.write_text("model: {feature_dim: 32}\ntrain: {steps: 7}\n")
    with caplog.at_level("INFO", logger="vttwins.companion.config"):
        d = load_config(bare)
    assert (d.optim.lr, d.model.embed_dim, d.optim.warmup_steps) == (1e-3, 512, 0)  # the dataclasses' defaults
    said = [r.getMessage() for r in caplog.records if "base: default" in r.getMessage()]
    assert len(said) == 1 and str(bare) in said[0]
    caplog.clear()
    with caplog.at_level("INFO", logger="vttwins.companion.config"):
        load_config("smoke")  # a profile: nothing to say
    assert not [r for r in caplog.records if "base:" in r.getMessage()]
    (tmp_path / "loop.yaml").write_text(f"base: {tmp_path / 'loop.yaml'}\n")
    with pytest.raises(ValueError, match="cycle"):
        load_config(tmp_path / "loop.yaml")


def test_data_configs_need_no_training_keys_and_an_absurd_lr_is_warned(tmp_path, caplog):
    data_only = tmp_path / "d.yaml"
    data_only.write_text("data: {video_list_csv: v.csv}\n")
    with pytest.raises(ValueError, match="train.steps"):
        load_config(data_only)
    assert load_config(data_only, training=False).train.steps is None
    with caplog.at_level("WARNING", logger="vttwins.companion.config"):
        load_config("smoke", ["optim.lr=1e6"])
    assert "optim.lr" in caplog.text and "1e+06" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="vttwins.companion.config"):
        load_config("smoke", ["optim.lr=1e-3"])
    assert "optim.lr" not in caplog.text


# sha256(json.dumps(config_to_dict(load_config(profile, overrides))))[:16], computed with main's hand-written config
# code (7b8a3ab) before the pydantic rewrite: the dict written into run folders (and the run-cache key) is unchanged.
# When a profile changes, recompute them with that code (`git archive 7b8a3ab`) on the new YAML, `losses: all`
# written out as the list of in-study objectives (the old code has no `all`).
SNAPSHOTS = [
    ("smoke", [], "7fce451c4ff2f8b3"),
    ("default", [], "27c1d5473cba15e3"),
    ("paper", [], "8c2fb0d9b4fa6f9b"),
    ("default", ["loss.name=mil_nce"], "babdd44969323d5d"),
    ("default", ["loss.name=clip_nce", "optim.betas=[0, 0.5]"], "48fd7629c152d068"),
    (
        "smoke",
        [
            "loss.name=s2dtw_tda",
            "data.synth={howto_videos: 30, noise: weak}",
            "train.epochs=2",
            "train.steps=null",
            "optim.grad_clip=1",
            "eval.max_clips=5",
            "output_dir=7",
        ],
        "a426ab0c8edcaf0c",
    ),
]


@pytest.mark.parametrize("profile, overrides, digest", SNAPSHOTS)
def test_config_dict_is_the_one_of_the_hand_written_code(profile, overrides, digest):
    plain = config_to_dict(load_config(profile, overrides))
    assert hashlib.sha256(json.dumps(plain).encode()).hexdigest()[:16] == digest  # key order and values


def test_default_profile_dict_spot_values():
    """Independent of the digest: types and order a reader of config.json relies on."""
    plain = config_to_dict(load_config("default"))
    assert list(plain) == ["data", "model", "loss", "optim", "train", "eval", "grid", "notebooks"]
    assert plain["optim"]["betas"] == [0.9, 0.999] and isinstance(plain["optim"]["lr"], float)
    assert plain["loss"] == {
        "name": "s2dtw",
        "gamma": 0.1,
        "smooth_gamma": 0.1,
        "tau": 0.5,
        "direction": "text",
        "temperature": 1.0,
        "tda": False,
        "tda_max_shift": 2,
        "tda_sharpness": 50.0,
        "num_candidates": 4,
        "normalize": True,
        "learn_gamma": False,
        "learn_tau": False,
    }
    assert plain["data"]["root"] == "data/synth/default" and plain["grid"]["slurm"]["time"] == 60


def test_integers_given_for_floats_become_floats_and_numbers_for_strings_become_strings():
    c = load_config("smoke", ["optim.lr=1", "loss.gamma=0", "output_dir=2024", "train.steps=3.0", "optim.lr=1e-4"])
    assert c.loss.gamma == 0.0 and isinstance(c.loss.gamma, float) and c.train.output_dir == "2024"
    assert c.train.steps == 3 and isinstance(c.train.steps, int) and c.optim.lr == 1e-4


@pytest.mark.parametrize(
    "override, needle",
    [
        ("data.synth={howto_vidoes: 3}", "allowed keys in 'data.synth': seed, num_tasks"),
        ("model.embedim=3", "unknown config key 'model.embedim'; allowed keys in 'model': mode, embed_dim"),
        ("grid.slurm.gpu=1", "unknown config key 'grid.slurm.gpu'; allowed keys in 'grid.slurm': partition, time"),
    ],
)
def test_unknown_keys_list_the_allowed_ones_in_every_section(override, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        load_config("smoke", [override])


def test_code_built_sections_are_checked_too():
    """The sections are (pydantic) dataclasses: construction and dataclasses.replace validate, fields/asdict work."""
    with pytest.raises(ValueError, match="greater than 0"):
        OptimConfig(lr=-1)
    with pytest.raises(ValueError):
        dataclasses.replace(EvalConfig(), max_clips=0)
    assert [f.name for f in dataclasses.fields(OptimConfig)][:2] == ["lr", "warmup_steps"]
    assert dataclasses.asdict(OptimConfig())["betas"] == (0.9, 0.999)
    c = load_config("smoke")
    c.optim.lr = -2.0  # attribute assignment is not checked; validate() is
    with pytest.raises(ValueError, match=r"optim\.lr=-2\.0: must be > 0$"):
        validate(c)


@pytest.fixture
def toy_registrations():
    """A toy objective and a toy task registered AFTER vttwins.companion.config was imported (then removed)."""
    objectives.register(
        objectives.Objective(
            "toy_loss",
            "Toy",
            "#000000",
            objectives.build_sequence,
            {"smooth": True, "weak": True},
            {"temperature": 2.0, "normalize": True, "tda": False},
        )
    )
    registry.register(registry.Task("toy_task", evaluate=lambda *a: None, table=lambda long: long, label="Toy"))
    yield
    objectives.unregister("toy_loss")
    registry.unregister("toy_task")


def test_registries_are_read_at_validation_time_and_all_expands_to_every_name(toy_registrations, tmp_path):
    c = load_config("smoke", ["loss.name=toy_loss", "eval.tasks=all"])
    assert c.loss.name == "toy_loss" and c.loss.temperature == 2.0  # the toy's own derived default
    assert c.eval.tasks == list(registry.TASKS) and c.eval.tasks[-1] == "toy_task"
    assert "youcook2" in c.eval.tasks and EvalConfig(tasks="all").tasks == c.eval.tasks
    path = tmp_path / "p.yaml"
    path.write_text(
        "base: smoke\nnotebooks:\n  02_ablation_dtw_variants: {losses: all, knob_losses: all,"
        " curve_losses: [s2dtw], seeds: 1}\n  03_retrieval_youcook2: {tasks: all}\n"
    )
    nb = load_config(path).notebooks
    assert nb["02_ablation_dtw_variants"]["losses"] == list(objectives.names(in_study=True))
    assert (
        "s2dtw_tda_strong" in objectives.names() and "s2dtw_tda_strong" not in nb["02_ablation_dtw_variants"]["losses"]
    )
    assert nb["02_ablation_dtw_variants"]["losses"][-1] == "toy_loss"
    assert nb["02_ablation_dtw_variants"]["knob_losses"] == nb["02_ablation_dtw_variants"]["losses"]
    assert (
        nb["02_ablation_dtw_variants"]["curve_losses"] == ["s2dtw"]
        and nb["03_retrieval_youcook2"]["tasks"][-1] == "toy_task"
    )


def test_unregistered_names_are_refused_after_removal():
    with pytest.raises(ValueError, match=r"loss\.name='toy_loss': must be one of"):
        load_config("smoke", ["loss.name=toy_loss"])
    with pytest.raises(ValueError, match=r"eval\.tasks=\['toy_task'\]: must be a subset of"):
        load_config("smoke", ["eval.tasks=[toy_task]"])


def test_the_committed_study_lists_every_objective_in_study_and_the_pipeline_expands_it():
    """configs/default.yaml says `losses: all` for notebook 02; the pipeline hands the notebook the list, equal to
    the nine objectives the committed ablation tables hold (written out here by hand)."""
    from vttwins.companion.pipeline.context import profile_notebook_params

    committed = [
        "mil_nce",
        "clip_nce",
        "dtw",
        "soft_dtw",
        "s2dtw_smooth_only",
        "s2dtw_weak_only",
        "s2dtw",
        "s2dtw_tda",
        "s2dtw_skip_warmup",
    ]
    for profile in ("default", "paper"):
        assert profile_notebook_params(profile)["02_ablation_dtw_variants"]["losses"] == committed
