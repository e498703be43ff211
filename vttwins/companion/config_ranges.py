"""Value types of the run config and its ONE error format (a leaf module: imports nothing of vttwins).

    from vttwins.companion.config_ranges import SECTION, Float, Int, config_error
    lr: Float = Field(1e-3, gt=0)                  # in a `@dataclass(config=SECTION)` (pydantic) section
    raise config_error(validation_error, Config)  # -> ValueError("optim.lr=-1: must be > 0")

Every bad value is reported as `<dotted key>=<value given>: must be <allowed range or choices>`, e.g.
`optim.betas[1]=1.0: must be in [0, 1)`, `loss.name='foo': must be one of ['s2dtw', ...]`; an unknown key as
`unknown config key 'train.stepz'; allowed keys in 'train': steps, epochs, ...`. pydantic checks the values
(`Field(ge=...)`, `Literal[...]`, validators); `config_error` turns its `ValidationError` into that one line.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Strict, ValidationError

# Strict about keys; numbers are fine where a string is expected (`output_dir=2024`); NaN/inf are never a setting.
SECTION = ConfigDict(extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False)


def _not_bool(value: Any) -> Any:
    """pydantic reads true/false as 1/0 where a number is expected; in a config that is always a slip."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


def _not_text(value: Any) -> Any:
    """An integer is written as one (`'3'` is refused); a float may come as text: YAML 1.1 reads `1e-4` so."""
    if isinstance(value, str):
        raise ValueError("must be an integer, not a string")
    return _not_bool(value)


Int = Annotated[int, BeforeValidator(_not_text)]
Float = Annotated[float, BeforeValidator(_not_bool)]
Bool = Annotated[bool, Strict()]  # true/false only (not 1, "yes")


def strict_scalars(cls: type) -> BeforeValidator:
    """For a section that is a core (stdlib) dataclass (ModelConfig: no pydantic in the core): true/false only for
    its bool fields and never for its numbers, as `Bool`, `Int` and `Float` do in the pydantic sections."""

    def check(values):
        hints = typing.get_type_hints(cls) if isinstance(values, dict) else {}
        for key, value in values.items() if hints else ():
            hint = _plain(hints.get(key, Any))
            if value is not None and (
                (hint is bool) != isinstance(value, bool)
                and hint in (bool, int, float)
                or hint is int
                and isinstance(value, str)
            ):
                raise ValueError(f"{cls.__name__}.{key} must be {KINDS[hint.__name__]}, got {value!r}")
        return values

    return BeforeValidator(check)


KINDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a string",
    "dict": "a mapping",
    "dataclass": "a mapping",
    "list": "a list",
    "tuple": "a list",
}
CORE_CHECK = re.compile(r"^\w+\.(\w+) must be (.*), got (.*)$", re.S)  # "ModelConfig.mode must be X, got Y"
BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def config_error(exc: ValidationError, root: type) -> ValueError:
    """The first error of a pydantic `ValidationError` on `root` (a config dataclass) as one ValueError line."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    if err["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return ValueError(_unknown(root, loc))
    core = CORE_CHECK.match(str(err.get("ctx", {}).get("error", ""))) if err["type"] == "value_error" else None
    if core:  # the own check of a core dataclass (ModelConfig: no pydantic in the core), same format
        return ValueError(f"{_dotted(loc)}.{core[1]}={core[3]}: must be {core[2]}")
    if err["type"] == "missing" and loc and isinstance(loc[-1], int):
        loc = loc[:-1]  # a tuple given too few values: report the whole list
    annotation, metadata, description = _field_info(root, loc)
    return ValueError(f"{_dotted(loc)}={_given(err)!r}: {_expected(err, annotation, metadata, description)}")


def _unknown(root: type, loc: tuple) -> str:
    """Unknown key at `loc`: name it and list the keys allowed where it stands."""
    owner = _field_info(root, loc[:-1])[0] if len(loc) > 1 else root
    allowed = ", ".join(f.name for f in dataclasses.fields(_plain(owner)))
    if len(loc) == 1:
        return f"unknown config section '{loc[0]}'; allowed sections: {allowed}"
    where = _dotted(loc[:-1])
    return f"unknown config key '{_dotted(loc)}'; allowed keys in '{where}': {allowed}"


def _given(err: dict) -> Any:
    value = err["input"]
    return list(value) if isinstance(value, tuple) else value


def _expected(err: dict, annotation, metadata, description: str | None) -> str:
    kind = err["type"]
    if kind == "value_error":
        text = str(err["ctx"]["error"])
        return text if text.startswith("must ") else f"must satisfy: {text}"
    if kind in ("too_long", "too_short", "missing") and typing.get_origin(_plain(annotation)) is tuple:
        return f"must be a list of exactly {len(typing.get_args(_plain(annotation)))} values"
    if kind.split("_")[0] in ("greater", "less"):
        text = f"must be {_range(metadata)}" + (" or null" if _nullable(annotation) else "")
    elif kind == "literal_error":
        text = f"must be one of {list(typing.get_args(_plain(annotation)))}"
    elif kind == "finite_number":
        text = "must be a finite number"
    else:
        base = kind.split("_")[0]
        text = f"must be {KINDS.get(base, base)}" + (" or null" if _nullable(annotation) else "")
    return text + (f" ({description})" if description else "")


def _range(metadata) -> str:
    """`in [0, 1)`, `> 0`, ... from the annotated-types bounds of a field (`Field(ge=0, lt=1)`)."""
    bounds = {key: getattr(m, key) for m in metadata for key in BOUNDS if hasattr(m, key)}
    low = [(k, v) for k, v in bounds.items() if k in ("gt", "ge")]
    high = [(k, v) for k, v in bounds.items() if k in ("lt", "le")]
    if low and high:
        (lk, lv), (hk, hv) = low[0], high[0]
        return f"in {'[' if lk == 'ge' else '('}{lv:g}, {hv:g}{']' if hk == 'le' else ')'}"
    return " and ".join(f"{BOUNDS[k]} {v:g}" for k, v in bounds.items())


def _field_info(root: type, loc: tuple):
    """(annotation, bound metadata, description) of the field at `loc` under the dataclass `root`."""
    annotation, metadata, description = root, [], None
    for part in loc:
        cls = _plain(annotation)
        if isinstance(part, int):
            args = typing.get_args(cls)
            annotation = args[min(part, len(args) - 1)] if args else Any
            metadata = [m for extra in getattr(annotation, "__metadata__", ()) for m in getattr(extra, "metadata", [])]
            continue
        pyd = getattr(cls, "__pydantic_fields__", None)
        if pyd is not None and part in pyd:
            annotation, metadata, description = pyd[part].annotation, pyd[part].metadata, pyd[part].description
        elif dataclasses.is_dataclass(cls):
            annotation, metadata, description = typing.get_type_hints(cls).get(part, Any), [], None
        else:
            return Any, [], None
    return annotation, metadata, description


def _plain(annotation):
    """The annotation without `Annotated[...]` and without `| None`."""
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if _nullable(annotation) and len(args) == 1:
        return _plain(args[0])
    return annotation


def _nullable(annotation) -> bool:
    return type(None) in typing.get_args(annotation)


def _dotted(loc: tuple) -> str:
    return re.sub(r"\.\[", "[", ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc))
