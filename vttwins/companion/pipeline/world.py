"""A SynthHowTo world given on the command line, added to every notebook that takes `worlds` (the ablation).

    python -m vttwins reproduce --profile default --world seed=777,offset_std=5,filler_rate=0.25,narrate_prob=0.7 \
        --only 02_ablation_dtw_variants

`parse_world` turns the text into (name, SynthConfig overrides); the runner hands the worlds to the kernels in the
`VTTWINS_WORLD` environment variable (JSON), and `context.resolve` adds them to the notebook's `worlds` parameter
(after the profile's, so the first world -- the one settings are tuned on -- stays the profile's). Results of a
run with an added world go to `runs/<profile>/results/`, never to the committed `results/`.
"""

from __future__ import annotations

import json
import os
from typing import Any
from vttwins.companion.synth.config import NoiseConfig

WORLD_ENV = "VTTWINS_WORLD"
# key on the command line -> (path in the SynthConfig overrides, type, letter of the derived world name)
FIELDS: dict[str, tuple[tuple[str, ...], type, str]] = {
    "seed": (("seed",), int, "s"),
    "offset_std": (("noise", "offset_std"), float, "o"),
    "filler_rate": (("noise", "filler_rate"), float, "f"),
    "narrate_prob": (("noise", "narrate_prob"), float, "n"),
}


def parse_world(text: str) -> tuple[str, dict[str, Any]]:
    """`seed=777,offset_std=5,filler_rate=0.25,narrate_prob=0.7[,name=mine]` -> (name, SynthConfig overrides
    `{"seed": 777, "noise": {...}}`). The name defaults to one derived from the values (`s777-o5-f0.25-n0.7`).

    Raises ValueError naming a malformed item, an unknown key or a value out of the generator's range."""
    values: dict[str, Any] = {}
    name = None
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not raw:
            raise ValueError(f"--world: expected key=value items separated by commas, got {item!r}")
        if key == "name":
            name = raw
            continue
        if key not in FIELDS:
            raise ValueError(f"--world: unknown key {key!r}; choose from {', '.join([*FIELDS, 'name'])}")
        try:
            values[key] = FIELDS[key][1](raw)
        except ValueError:
            raise ValueError(f"--world: {key}={raw!r} is not a {FIELDS[key][1].__name__}") from None
    if not values:
        raise ValueError(f"--world: set at least one of {', '.join(FIELDS)}, got {text!r}")
    synth: dict[str, Any] = {}
    for key, value in values.items():
        path = FIELDS[key][0]
        (synth.setdefault(path[0], {}) if len(path) == 2 else synth)[path[-1]] = value
    _check(synth)
    if name is not None and (not name or not all(c.isalnum() or c in "-_." for c in name)):
        raise ValueError(f"--world: name must be letters, digits, '-', '_' or '.', got {name!r}")
    return name or "-".join(f"{FIELDS[k][2]}{v:g}" for k, v in values.items()), synth


def _check(synth: dict) -> None:
    """The generator's own range checks (NoiseConfig), so a bad value fails before anything runs."""
    if "noise" in synth:
        NoiseConfig(**synth["noise"])
    if "seed" in synth and synth["seed"] < 0:
        raise ValueError(f"--world: seed must be >= 0, got {synth['seed']}")


def to_env(worlds: list[tuple[str, dict]]) -> str:
    return json.dumps([[name, synth] for name, synth in worlds], sort_keys=True)


def from_env() -> list[tuple[str, dict]]:
    """The worlds the runner passed to this kernel (`VTTWINS_WORLD`); [] when none."""
    text = os.environ.get(WORLD_ENV)
    if not text:
        return []
    try:
        return [(str(name), dict(synth)) for name, synth in json.loads(text)]
    except (ValueError, TypeError):
        raise ValueError(f"{WORLD_ENV} must be a JSON list of [name, synth overrides], got {text!r}") from None


def add_worlds(params: dict[str, Any], worlds: list[tuple[str, dict]]) -> dict[str, Any]:
    """`params` with each world appended to its `worlds` parameter (unchanged when the notebook has none, or no
    world is given). A name already used by a different world is a ValueError."""
    if not worlds or "worlds" not in params:
        return params
    merged = dict(params["worlds"])
    for name, synth in worlds:
        if name in merged and merged[name] != synth:
            raise ValueError(
                f"--world: the name {name!r} is already a world of this profile ({merged[name]}); "
                "give another with name=..."
            )
        merged[name] = synth
    return {**params, "worlds": merged}
