"""The Python run spec (harness/spec.py) against the schema the TypeScript side exports (runspec.schema.json,
from src/contracts/runSpec.ts): the same fields at every level, compatible types, the schema's defaults."""
from __future__ import annotations

import dataclasses
import typing

import pytest

from harness import spec as S
from harness.model import LMConfig

SECTIONS = {"": S.RunSpec, "layer": S.LayerSpec, "model": S.ModelSpec, "train": S.TrainSpec, "data": S.DataSpec,
            "probe": S.ProbeSpec}
JSON_TYPES = {int: {"integer"}, float: {"number", "integer"}, str: {"string"}, bool: {"boolean"}, list: {"array"},
              dict: {"object"}}


def _section_schema(name: str) -> dict:
    return S.object_schema(S.field_schema(name)) if name else S.SCHEMA


def _json_types(node: dict) -> set:
    """The JSON types a field's schema accepts ("null" for a nullable one)."""
    if "anyOf" in node:
        return set().union(*(_json_types(n) for n in node["anyOf"]))
    if "const" in node:
        return {"string"} if isinstance(node["const"], str) else {type(node["const"]).__name__}
    if "enum" in node:
        return {"string"}
    return set(node["type"]) if isinstance(node["type"], list) else {node["type"]}


@pytest.mark.parametrize("section", SECTIONS)
def test_fields_match_the_exported_schema(section):
    cls, schema = SECTIONS[section], _section_schema(section)
    assert schema.get("additionalProperties") is False, f"{section or 'spec'}: the TS schema must be strict"
    assert {f.name for f in dataclasses.fields(cls)} == set(schema["properties"]), section or "spec"
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        node = schema["properties"][f.name]
        if f.name in SECTIONS:
            continue  # a nested section, checked on its own
        hint = hints[f.name]
        args = typing.get_args(hint)
        nullable = type(None) in args
        base = next(a for a in args if a is not type(None)) if nullable else hint
        accepted = _json_types(node)
        assert ("null" in accepted) == nullable, f"{section}.{f.name}: nullable differs"
        assert accepted - {"null"} <= JSON_TYPES[base], f"{section}.{f.name}: {base.__name__} vs {accepted}"


@pytest.mark.parametrize("section", SECTIONS)
def test_defaults_are_the_schemas(section):
    cls, schema = SECTIONS[section], _section_schema(section)
    made = cls()
    for name, node in schema["properties"].items():
        if name in SECTIONS or "default" not in node:
            continue
        assert getattr(made, name) == node["default"], f"{section}.{name}"


def test_required_fields_without_default_are_checked_by_parse_spec():
    with pytest.raises(S.SpecError, match="layer.path is required"):
        S.parse_spec({"layer": {}})
    assert S.parse_spec({"layer": {"path": "x.py"}}).probe.lengths == [256, 512, 1024, 2048, 4096]


def test_probe_keys_outside_the_contract_are_rejected_on_both_sides():
    assert "extra" not in _section_schema("probe")["properties"]
    with pytest.raises(S.SpecError, match="unknown key probe.extra"):
        S.parse_spec({"layer": {"path": "x.py"}, "probe": {"extra": 1}})


def test_lm_config_is_the_model_section_plus_the_mixer_kwargs():
    names = [f.name for f in dataclasses.fields(LMConfig)]
    assert names == [f.name for f in dataclasses.fields(S.ModelSpec)] + ["layer_kwargs"]
    assert dataclasses.asdict(LMConfig()) == {**dataclasses.asdict(S.ModelSpec()), "layer_kwargs": {}}


def test_the_check_fails_on_a_drifted_field(monkeypatch):
    drifted = dataclasses.make_dataclass("TrainSpec", [(f.name, f.type, f) for f in dataclasses.fields(S.TrainSpec)]
                                         + [("eval_every", int, dataclasses.field(default=0))])
    monkeypatch.setitem(SECTIONS, "train", drifted)
    with pytest.raises(AssertionError):
        test_fields_match_the_exported_schema("train")
