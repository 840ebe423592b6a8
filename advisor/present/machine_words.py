"""The machine facts in words, for ``paradvise machine`` and the reports."""
from __future__ import annotations

from typing import Any

from ..model import Machine, PythonInfo
from ..units import human_bytes


def _cpus(n: int) -> str:
    return f"{n} CPU" if n == 1 else f"{n} CPUs"


def _python_text(py: PythonInfo) -> str:
    build = "free-threaded build" if py.free_threaded_build else "GIL build"
    gil = "GIL enabled" if py.gil_enabled else "GIL disabled"
    return f"{py.implementation} {py.version} ({build}, {gil})"


def _pools_text(pools: list[dict[str, Any]]) -> str:
    if not pools:
        return "none loaded"
    return "; ".join(
        f"{p.get('internal_api')} {p.get('version') or ''}".rstrip() + f" ({p.get('user_api')}): {p.get('num_threads')} threads"
        for p in pools
    )


def describe_machine(machine: Machine) -> list[tuple[str, str]]:
    """(label, value) rows in human units, for a table or plain text; no formatting markup."""
    c = machine.caches
    methods = ", ".join(machine.start_methods)
    return [
        ("CPU", machine.cpu_model),
        ("Logical CPUs", str(machine.logical_cpus)),
        ("Physical cores", str(machine.physical_cores)),
        ("Usable CPUs", f"{machine.usable_cpus} ({machine.usable_cpus_reason})"),
        ("L1d (per core)", f"{human_bytes(c.l1d_bytes)}, shared by {_cpus(c.l1d_shared_by)}"),
        ("L2 (per core)", f"{human_bytes(c.l2_bytes)}, shared by {_cpus(c.l2_shared_by)}"),
        ("L3", f"{human_bytes(c.l3_bytes)}, shared by {_cpus(c.l3_shared_by)}"),
        ("Cache line", f"{c.line_bytes} B"),
        ("Cache sizes from", c.source),
        ("Memory", human_bytes(machine.memory_bytes)),
        ("Python", _python_text(machine.python)),
        ("Executable", machine.python.executable),
        ("Start methods", f"{methods} (default {machine.default_start_method or 'unset'})"),
        ("Native thread pools", _pools_text(machine.thread_pools)),
    ]
