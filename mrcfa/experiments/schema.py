"""JSON Schemas of the experiments files (`experiments/schemas/`), checked with `jsonschema`.

The schema files describe each file's shape; the config sections they refer to (`#/$defs/model`, `data`, `train`,
`bench`, `table_bench`, `synth`) are derived here from the typed dataclasses, and a table's metric names
(`#/$defs/metric`) from `mrcfa.metric_keys`, so a field or a metric is declared once. A file that breaks its
schema is one `ConfigError` naming the field: "profile demo: train.lr: expected a number, got 'abc'".
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from mrcfa.config import BenchConfig, ConfigError, DataConfig, ModelConfig, TableBenchConfig, TrainConfig
from mrcfa.data.synth_settings import SynthSettings
from mrcfa.errors import hint
from mrcfa.experiments.files import EXPERIMENTS
from mrcfa.metric_keys import TABLE_METRICS

SCHEMAS = EXPERIMENTS / "schemas"
_SCALARS = {int: "integer", float: "number", bool: "boolean", str: "string"}
_NAMES = {"integer": "an integer", "number": "a number", "boolean": "true or false", "string": "a string",
          "array": "a list", "object": "a mapping", "null": "null"}


def type_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of one annotated field type (scalars, optional, fixed or open tuples, nested dataclasses)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = type_schema(next(a for a in args if a is not type(None)))
        return inner | {"type": [inner["type"], "null"]}
    if dataclasses.is_dataclass(tp):
        return section_schema(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": type_schema(args[0])}
        return {"type": "array", "prefixItems": [type_schema(a) for a in args], "minItems": len(args),
                "maxItems": len(args)}
    if origin is dict:
        return {"type": "object"}
    return {"type": _SCALARS[tp]}


def section_schema(cls: type, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props = {f.name: type_schema(hints[f.name]) for f in dataclasses.fields(cls) if f.name not in skip}
    return {"type": "object", "properties": props, "additionalProperties": False}


def _section_defs() -> dict[str, Any]:
    data = section_schema(DataConfig)
    data["properties"]["synth"] = {"$ref": "#/$defs/synth"}
    return {"model": section_schema(ModelConfig), "data": data, "train": section_schema(TrainConfig),
            "bench": section_schema(BenchConfig), "table_bench": section_schema(TableBenchConfig),
            "synth": section_schema(SynthSettings, skip=("num_classes",)),
            "metric": {"enum": list(TABLE_METRICS)}}


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """The checker of `experiments/schemas/<name>.schema.json`, with the config sections filled in."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    schema["$defs"] = {**schema.get("$defs", {}), **_section_defs()}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _describe(e: ValidationError) -> tuple[str, str]:
    """(dotted field, what is wrong) for the error `e`, in the words the hand-written checks used."""
    where = _dotted(e.absolute_path)
    if e.validator == "additionalProperties":
        known = sorted(e.schema.get("properties", {}))
        extra = sorted(set(e.instance) - set(known))[0]
        return _dotted([*e.absolute_path, extra]), f"unknown field; {hint(extra, known)}"
    if e.validator == "required":
        missing = next(k for k in e.validator_value if k not in e.instance)
        return _dotted([*e.absolute_path, missing]), "missing"
    if e.validator == "type":
        wanted = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        return where, f"expected {' or '.join(_NAMES[t] for t in wanted)}, got {e.instance!r}"
    if e.validator in ("minItems", "maxItems") and "prefixItems" in e.schema:
        return where, f"expected {len(e.schema['prefixItems'])} values, got {e.instance!r}"
    if e.validator == "enum":
        return where, f"must be one of {', '.join(map(str, e.validator_value))}, got {e.instance!r}"
    return where, e.message


def check(data: dict[str, Any], name: str, what: str) -> None:
    """Raise a `ConfigError` "<what>: <field>: <problem>" when `data` breaks schema `name`."""
    error = best_match(validator(name).iter_errors(data))
    if error is not None:
        field, problem = _describe(error)
        raise ConfigError(f"{what}: {field}: {problem}" if field else f"{what}: {problem}")
