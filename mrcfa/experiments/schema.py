"""JSON Schemas of the experiments files (`experiments/schemas/`), checked with `jsonschema`.

The schema files describe each file's shape; the config sections they refer to (`#/$defs/model`, `data`, `train`,
`bench`, `table_bench`, `synth`) are the typed dataclasses' own schemas (`mrcfa.config.section_schema`), and a
table's metric names (`#/$defs/metric`) come from `mrcfa.metric_keys`, so a field or a metric is declared once.
The files are checked by the validator that checks every config built (`mrcfa.config.check_schema`): a file
that breaks its schema is one `ConfigError` naming the field: "profile demo: train.lr: expected a number, got
'abc'".
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from mrcfa.config import (BenchConfig, DataConfig, ModelConfig, TableBenchConfig, TrainConfig, Validator,
                          check_schema, section_schema)
from mrcfa.data.synth_settings import SynthSettings
from mrcfa.experiments.files import EXPERIMENTS
from mrcfa.metric_keys import TABLE_METRICS

SCHEMAS = EXPERIMENTS / "schemas"


def _section_defs() -> dict[str, Any]:
    data = section_schema(DataConfig)
    data["properties"]["synth"] = {"$ref": "#/$defs/synth"}
    return {"model": section_schema(ModelConfig), "data": data, "train": section_schema(TrainConfig),
            "bench": section_schema(BenchConfig), "table_bench": section_schema(TableBenchConfig),
            "synth": section_schema(SynthSettings, skip=("num_classes",)),
            "metric": {"enum": list(TABLE_METRICS)}}


@cache
def validator(name: str) -> Validator:
    """The checker of `experiments/schemas/<name>.schema.json`, with the config sections filled in."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    schema["$defs"] = {**schema.get("$defs", {}), **_section_defs()}
    Validator.check_schema(schema)
    return Validator(schema)


def check(data: dict[str, Any], name: str, what: str) -> None:
    """Raise a `ConfigError` "<what>: <field>: <problem>" when `data` breaks schema `name`."""
    check_schema(validator(name), data, f"{what}: ")
