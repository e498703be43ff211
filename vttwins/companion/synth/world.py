"""The SynthHowTo world: verbs (each a motion pattern), objects (each a coloured shape), tasks (ordered steps),
and the paraphrase templates that narrate them.

    world = build_world(seed=0, num_tasks=12, num_verbs=12, num_objects=18)
    world.tasks[0].steps        # [(verb_index, object_index), ...] in order
    step_text(world, 3, 7)      # "pour water"

Everything is a pure function of the seed; `world.to_json()` is what `world.json` holds (the ground truth).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# verb -> (base forms usable in narration, gerunds, motion pattern drawn by render.py / encoded by features.py)
VERBS: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    ("cut", ("cut", "chop", "slice"), ("cutting", "chopping", "slicing"), "split"),
    ("pour", ("pour", "fill"), ("pouring", "filling"), "fill"),
    ("stir", ("stir", "mix"), ("stirring", "mixing"), "rotate"),
    ("tighten", ("tighten", "fasten"), ("tightening", "fastening"), "spin"),
    ("shake", ("shake", "toss"), ("shaking", "tossing"), "shake"),
    ("roll", ("roll", "flatten"), ("rolling", "flattening"), "roll"),
    ("press", ("press", "squeeze"), ("pressing", "squeezing"), "squash"),
    ("lift", ("lift", "raise"), ("lifting", "raising"), "bounce"),
    ("move", ("move", "slide"), ("moving", "sliding"), "translate"),
    ("heat", ("heat", "warm"), ("heating", "warming"), "pulse"),
    ("flip", ("flip", "turn"), ("flipping", "turning"), "flip"),
    ("wipe", ("wipe", "clean"), ("wiping", "cleaning"), "orbit"),
    ("peel", ("peel", "strip"), ("peeling", "stripping"), "blink"),
    ("spread", ("spread", "smear"), ("spreading", "smearing"), "grow"),
]
MOTIONS = [v[3] for v in VERBS]

# object -> (names usable in narration: singular first, then plural / synonyms), colour RGB, shape
OBJECTS: list[tuple[str, tuple[str, ...], tuple[int, int, int], str]] = [
    ("onion", ("onion", "onions"), (150, 60, 170), "circle"),
    ("tomato", ("tomato", "tomatoes"), (220, 40, 40), "circle"),
    ("water", ("water",), (40, 110, 230), "square"),
    ("screw", ("screw", "screws", "bolt"), (150, 150, 150), "triangle"),
    ("dough", ("dough",), (230, 200, 150), "ellipse"),
    ("butter", ("butter",), (250, 220, 60), "square"),
    ("egg", ("egg", "eggs"), (245, 245, 235), "ellipse"),
    ("pan", ("pan", "skillet"), (60, 60, 60), "ring"),
    ("bread", ("bread", "toast"), (190, 130, 60), "square"),
    ("lemon", ("lemon", "lemons"), (240, 240, 40), "ellipse"),
    ("carrot", ("carrot", "carrots"), (245, 130, 20), "triangle"),
    ("wheel", ("wheel", "tire"), (30, 30, 30), "ring"),
    ("shelf", ("shelf", "board"), (140, 90, 40), "bar"),
    ("pipe", ("pipe", "tube"), (90, 160, 90), "bar"),
    ("paint", ("paint",), (30, 180, 200), "diamond"),
    ("cheese", ("cheese",), (255, 190, 80), "triangle"),
    ("garlic", ("garlic",), (235, 225, 200), "diamond"),
    ("pepper", ("pepper", "peppers"), (40, 170, 40), "cross"),
    ("milk", ("milk",), (250, 250, 250), "cross"),
    ("nail", ("nail", "nails"), (110, 110, 140), "diamond"),
]
SHAPES = sorted({o[3] for o in OBJECTS})

TASK_TITLES = [
    "make a salad",
    "make pancakes",
    "fix a bike",
    "build a shelf",
    "make lemonade",
    "bake bread",
    "make an omelette",
    "change a tire",
    "make soup",
    "paint a wall",
    "make pizza",
    "repair a pipe",
    "make a sandwich",
    "make tacos",
    "clean a kitchen",
    "make jam",
    "assemble a table",
    "make a smoothie",
    "make pasta",
    "fix a faucet",
]

# Narration templates used for HowTo pretraining captions ({v}: base verb, {g}: gerund, {o}: object name).
PRETRAIN_TEMPLATES = [
    "now we {v} the {o}",
    "{g} up the {o}",
    "you want to {v} it",
    "then you {v} the {o}",
    "next {v} the {o}",
    "go ahead and {v} the {o}",
    "im going to {v} the {o}",
    "{g} the {o}",
    "just {v} your {o}",
    "we are {g} the {o} here",
    "and {v} that {o}",
    "so you {v} the {o} like this",
]
# Held out from pretraining narration: used by the downstream sets (YouCook2 / MSR-VTT sentences).
HELDOUT_TEMPLATES = [
    "{v} the {o}",
    "a person {g} the {o}",
    "someone is {g} some {o}",
    "{v} some {o} in the video",
    "time to {v} the {o}",
    "{g} a {o}",
]
FILLERS = [
    "dont forget to subscribe",
    "okay so",
    "alright guys",
    "thanks for watching",
    "hit the like button",
    "um yeah",
    "so as you can see",
    "welcome back to my channel",
    "let me know in the comments",
    "and there you go",
    "this is really easy",
    "hi everyone",
]


@dataclass(frozen=True)
class Task:
    """A task: an id (CrossTask-style numeric string), a title and its ordered steps (verb, object) indices."""

    task_id: str
    title: str
    steps: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class World:
    seed: int
    verbs: tuple[str, ...]
    objects: tuple[str, ...]
    tasks: tuple[Task, ...]
    backgrounds: tuple[tuple[int, int, int], ...] = field(default=())  # per-task background colour

    def step_name(self, verb: int, obj: int) -> str:
        return f"{self.verbs[verb]} {self.objects[obj]}"

    def to_json(self) -> dict:
        return {
            "seed": self.seed,
            "verbs": [
                {"name": v[0], "forms": list(v[1]), "gerunds": list(v[2]), "motion": v[3]}
                for v in VERBS[: len(self.verbs)]
            ],
            "objects": [
                {"name": o[0], "forms": list(o[1]), "colour": list(o[2]), "shape": o[3]}
                for o in OBJECTS[: len(self.objects)]
            ],
            "tasks": [
                {
                    "task_id": t.task_id,
                    "title": t.title,
                    "background": list(self.backgrounds[i]),
                    "steps": [{"verb": v, "object": o, "name": self.step_name(v, o)} for v, o in t.steps],
                }
                for i, t in enumerate(self.tasks)
            ],
            "templates": {"pretrain": PRETRAIN_TEMPLATES, "heldout": HELDOUT_TEMPLATES, "filler": FILLERS},
        }


def build_world(
    seed: int,
    num_tasks: int = 12,
    num_verbs: int = 12,
    num_objects: int = 18,
    steps_range: tuple[int, int] = (4, 8),
    step_pool: int | None = None,
) -> World:
    """Sample tasks as ordered step lists drawn from a shared pool of (verb, object) steps.

    The pool (default ``2 * num_tasks + 8`` steps) is smaller than the total number of task steps, so several
    steps are shared across tasks, as in CrossTask.
    """
    if not (1 <= num_verbs <= len(VERBS) and 1 <= num_objects <= len(OBJECTS)):
        raise ValueError(
            f"num_verbs must be in 1..{len(VERBS)} and num_objects in 1..{len(OBJECTS)}, got {num_verbs}, {num_objects}"
        )
    if not 1 <= num_tasks <= len(TASK_TITLES):
        raise ValueError(f"num_tasks must be in 1..{len(TASK_TITLES)}, got {num_tasks}")
    lo, hi = steps_range
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    pool_size = min(step_pool or 2 * num_tasks + 8, num_verbs * num_objects)
    # The pool: distinct random (verb, object) cells; tasks draw their steps from it, so steps recur across tasks.
    cells = rng.permutation(num_verbs * num_objects)
    pool = [(int(c) // num_objects, int(c) % num_objects) for c in cells[:pool_size]]
    tasks = []
    for k in range(num_tasks):
        n = int(rng.integers(lo, hi + 1))
        chosen = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
        tasks.append(
            Task(task_id=str(10000 + 1013 * (k + 1)), title=TASK_TITLES[k], steps=tuple(pool[int(i)] for i in chosen))
        )
    backgrounds = tuple(tuple(int(c) for c in rng.integers(40, 216, size=3)) for _ in range(num_tasks))
    return World(
        seed=seed,
        verbs=tuple(v[0] for v in VERBS[:num_verbs]),
        objects=tuple(o[0] for o in OBJECTS[:num_objects]),
        tasks=tuple(tasks),
        backgrounds=backgrounds,
    )


def paraphrase(rng: np.random.Generator, verb: int, obj: int, templates: list[str]) -> str:
    """One lowercase, punctuation-free sentence for step (verb, obj) from a random template and word forms."""
    _, forms, gerunds, _ = VERBS[verb]
    names = OBJECTS[obj][1]
    j = int(rng.integers(len(forms)))
    template = templates[int(rng.integers(len(templates)))]
    return template.format(v=forms[j], g=gerunds[j], o=names[int(rng.integers(len(names)))])
