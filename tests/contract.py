"""A checker for the public JSON contract (../shared/CONTRACT.md, schema_version 1).

``check_contract(data)`` asserts that every required field is present with the type the
contract names, and that the enumerated fields hold one of their allowed values. Extra
fields are allowed (the contract welcomes them). Reused by the end-to-end tests.
"""
from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1
CLASSIFICATION_KINDS = {"cpu-bound", "gil-releasing", "io-bound", "memory-bound", "overhead-bound"}
RECOMMENDATION_EXECUTORS = {"serial", "threads", "processes", "asyncio", "joblib", "interpreters", "dask"}
CACHE_LEVELS = {"L1d", "L2", "L3", "RAM"}
WARNING_CODES = {
    "global-state-mutation", "unpicklable-target", "results-differ", "nondeterministic-results",
    "blas-oversubscription", "too-short-to-parallelize", "unstable-measurements",
    "missing-main-guard", "side-effect-io", "target-error", "busy-machine",
}

# Contract type names -> predicate. JSON has one number type, so a float field may hold an
# integral value (``1`` as well as ``1.0``); an int field must hold an int. bool is never a number.
_MISSING = object()


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_TYPES = {
    "int": _is_int,
    "float": _is_float,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}

# Dotted path -> contract type ("int|null" allows None).
TOP_FIELDS = {
    "schema_version": "int",
    "tool.version": "str",
    "machine.logical_cpus": "int",
    "machine.physical_cores": "int",
    "machine.usable_cpus": "int",
    "machine.caches.l1d_bytes": "int",
    "machine.caches.l2_bytes": "int",
    "machine.caches.l3_bytes": "int",
    "machine.caches.l1d_shared_by": "int",
    "machine.caches.l2_shared_by": "int",
    "machine.caches.l3_shared_by": "int",
    "machine.python.version": "str",
    "machine.python.gil_enabled": "bool",
    "machine.start_methods": "list",
    "target.name": "str",
    "target.file": "str",
    "target.line": "int",
    "target.calls": "int",
    "target.per_call_seconds": "float",
    "target.is_coroutine": "bool",
    "target.call_site": "str",
    "target.candidates": "list",
    "classification.kind": "str",
    "classification.evidence": "object",
    "data.arg_bytes": "int",
    "data.result_bytes": "int",
    "data.working_set_bytes": "int",
    "data.fits_in": "str",
    "trials": "list",
    "recommendation.executor": "str",
    "recommendation.workers": "int",
    "recommendation.chunksize": "int|null",
    "recommendation.start_method": "str|null",
    "recommendation.expected_speedup": "float",
    "recommendation.reason": "str",
    "warnings": "list",
    "code": "str",
}

TRIAL_FIELDS = {
    "executor": "str",
    "workers": "int",
    "chunksize": "int|null",
    "start_method": "str|null",
    "seconds": "float|null",
    "speedup": "float|null",
    "ok": "bool",
    "error": "str|null",
}

WARNING_FIELDS = {"code": "str", "message": "str"}


def _get(data: Any, dotted: str) -> Any:
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _check_type(where: str, value: Any, spec: str) -> None:
    assert value is not _MISSING, f"contract field {where} is missing"
    assert any(_TYPES[t](value) for t in spec.split("|")), (
        f"contract field {where} should be [{spec}], got {type(value).__name__}: {value!r}")


def check_contract(data: dict[str, Any]) -> None:
    """Assert that parsed report JSON ``data`` honours CONTRACT.md, schema_version 1."""
    assert isinstance(data, dict), f"a report is a JSON object, got {type(data).__name__}"
    for path, spec in TOP_FIELDS.items():
        _check_type(path, _get(data, path), spec)

    assert data["schema_version"] == SCHEMA_VERSION, data["schema_version"]
    assert all(isinstance(m, str) for m in data["machine"]["start_methods"]), data["machine"]["start_methods"]
    assert data["classification"]["kind"] in CLASSIFICATION_KINDS, data["classification"]["kind"]
    assert data["recommendation"]["executor"] in RECOMMENDATION_EXECUTORS, data["recommendation"]["executor"]
    assert data["data"]["fits_in"] in CACHE_LEVELS, data["data"]["fits_in"]
    assert data["recommendation"]["reason"].strip(), "recommendation.reason is empty"

    for i, trial in enumerate(data["trials"]):
        assert isinstance(trial, dict), f"trials[{i}] is not an object"
        for name, spec in TRIAL_FIELDS.items():
            _check_type(f"trials[{i}].{name}", trial.get(name, _MISSING), spec)

    for i, warning in enumerate(data["warnings"]):
        assert isinstance(warning, dict), f"warnings[{i}] is not an object"
        for name, spec in WARNING_FIELDS.items():
            _check_type(f"warnings[{i}].{name}", warning.get(name, _MISSING), spec)
        assert warning["code"] in WARNING_CODES, f"warnings[{i}].code {warning['code']!r} is not a stable code"
