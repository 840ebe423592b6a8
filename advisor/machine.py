"""What this machine and this Python can do in parallel: CPUs, caches, memory, build.

Everything the advice depends on is read here once and frozen into a ``Machine``
(see ``model.py``). Each fact comes from a small function that takes its source
(a sysfs root, a cgroup root, an environment mapping, a py-cpuinfo dict) as a
parameter, so tests can feed in fake trees instead of this machine's.

Heavy or slow imports (psutil, py-cpuinfo, threadpoolctl, numpy) stay inside the
functions that need them, so ``import advisor`` stays cheap.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import multiprocessing
import os
import platform
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any, Mapping, Optional

from .model import Caches, Machine, PythonInfo

SYSFS_CPU = Path("/sys/devices/system/cpu")
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CPUINFO = Path("/proc/cpuinfo")
CPUS_ENV = "PARADVISE_CPUS"

KIB = 1024
MIB = 1024 * KIB
# Used only when neither sysfs nor py-cpuinfo answers: small enough that we never
# claim data fits in a cache it might not fit in on a typical current x86 core.
DEFAULT_CACHES = Caches(l1d_bytes=32 * KIB, l2_bytes=1 * MIB, l3_bytes=8 * MIB, source="default")

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": KIB, "M": MIB, "G": 1024 * MIB, "T": 1024 * 1024 * MIB}


# ---------------------------------------------------------------- small parsers


def parse_size(text: str | int) -> int:
    """Bytes in a cache size as sysfs or py-cpuinfo spell it: "48K", "2M", "1 MiB", 65536.

    sysfs and lscpu both mean powers of two by K/M, so "KB" is read as KiB too.
    """
    if isinstance(text, int):
        return text
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.upper()])


def parse_cpu_list(text: str) -> list[int]:
    """CPU numbers in a kernel cpu list such as "0-3,8-11" or "0,64" (empty -> [])."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return cpus


def parse_cpu_max(text: str) -> Optional[float]:
    """CPUs allowed by a cgroup v2 ``cpu.max`` ("quota period"); None when unlimited."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    period = int(fields[1]) if len(fields) > 1 else 100_000  # the kernel's default period
    return int(fields[0]) / period


def parse_cfs_quota(quota_text: str, period_text: str) -> Optional[float]:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; -1 is unlimited."""
    quota, period = int(quota_text), int(period_text)
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------- CPU counts


def logical_cpus() -> int:
    return os.cpu_count() or 1


def physical_cores(logical: int) -> int:
    try:
        import psutil

        return psutil.cpu_count(logical=False) or logical
    except Exception:  # psutil can fail inside odd containers; the logical count is a safe stand-in
        return logical


def affinity_cpus() -> Optional[int]:
    """How many CPUs this process may run on (taskset, numactl, container cpusets)."""
    if not hasattr(os, "sched_getaffinity"):  # macOS and Windows have no such call
        return None
    try:
        return len(os.sched_getaffinity(0))
    except OSError:
        return None


def cgroup_cpu_quota(root: Path = CGROUP_ROOT) -> Optional[tuple[float, str]]:
    """The CPU quota a container runtime set (as CPUs, maybe fractional) and the file it came from.

    Like loky, we read the cgroup at the conventional mount points rather than
    resolving /proc/self/cgroup: inside a container that is where our own group is mounted.
    """
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota = parse_cpu_max(v2)
        return (quota, "cpu.max") if quota is not None else None
    for v1_dir in ("cpu", "cpu,cpuacct"):
        quota_text = _read(root / v1_dir / "cpu.cfs_quota_us")
        period_text = _read(root / v1_dir / "cpu.cfs_period_us")
        if quota_text is not None and period_text is not None:
            quota = parse_cfs_quota(quota_text, period_text)
            return (quota, "cpu.cfs_quota_us") if quota is not None else None
    return None


def env_cpus(environ: Mapping[str, str]) -> Optional[int]:
    """The PARADVISE_CPUS override, when it is a positive integer (anything else is ignored)."""
    value = environ.get(CPUS_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def usable_cpus(
    logical: int,
    affinity: Optional[int] = None,
    quota: Optional[tuple[float, str]] = None,
    override: Optional[int] = None,
) -> tuple[int, str]:
    """The CPUs a pool should plan for, and what limited it, in words.

    The smallest limit wins (as in loky's cpu_count). On a tie the most deliberate
    limit is named: the override, then the cgroup quota, then affinity.
    """
    limits: list[tuple[int, int, str]] = [(logical, 3, f"all {logical} logical CPUs")]
    if affinity is not None:
        limits.append((affinity, 2, f"affinity allows {affinity} of {logical} logical CPUs"))
    if quota is not None:
        cpus, source = quota
        # A fractional quota still lets that many workers make progress; never plan for 0.
        limits.append((max(1, math.ceil(cpus)), 1, f"cgroup {source} quota {cpus:g} CPUs"))
    if override is not None:
        limits.append((override, 0, f"{CPUS_ENV}={override}"))
    count, _, reason = min(limits)
    return count, reason


# ---------------------------------------------------------------- caches


_CACHE_FILES = ("level", "type", "size", "shared_cpu_list", "coherency_line_size")


def _sysfs_cache_entries(cache_dir: Path) -> list[dict[str, str]]:
    """The readable files of each ``index*`` folder; entries without level, type or size are dropped."""
    entries = []
    for index in sorted(cache_dir.glob("index*")):
        entry = {name: text for name in _CACHE_FILES if (text := _read(index / name))}
        if {"level", "type", "size"} <= entry.keys():
            entries.append(entry)
    return entries


def caches_from_sysfs(sysfs_root: Path = SYSFS_CPU, cpu: int = 0) -> Optional[Caches]:
    """cpu0's data caches from Linux sysfs, or None when sysfs has no L1 data cache for it.

    Instruction caches are skipped: only data (or unified) caches hold the working set.
    A level sysfs does not list (some ARM boards have no L3) is reported as 0 bytes.
    """
    by_level: dict[int, dict[str, str]] = {}
    for entry in _sysfs_cache_entries(sysfs_root / f"cpu{cpu}" / "cache"):
        if entry["type"] in ("Data", "Unified"):
            by_level.setdefault(int(entry["level"]), entry)
    if 1 not in by_level:
        return None

    def size(level: int) -> int:
        return parse_size(by_level[level]["size"]) if level in by_level else 0

    def shared(level: int) -> int:
        text = by_level.get(level, {}).get("shared_cpu_list")
        return max(1, len(parse_cpu_list(text))) if text else 1

    line = by_level[1].get("coherency_line_size")
    return Caches(
        l1d_bytes=size(1), l2_bytes=size(2), l3_bytes=size(3),
        l1d_shared_by=shared(1), l2_shared_by=shared(2), l3_shared_by=shared(3),
        line_bytes=int(line) if line and line.isdigit() else 64, source="sysfs",
    )


def _per_core(total: int, cores: int, floor: int) -> int:
    """Split a py-cpuinfo total over cores, unless that gives an implausibly small cache.

    py-cpuinfo reports lscpu's totals on Linux but per-core sysctl values on macOS;
    a per-core result below ``floor`` means the number was per core already.
    """
    share = total // max(1, cores)
    return share if share >= floor else total


def caches_from_cpuinfo(info: Mapping[str, Any], cores: int, logical: int) -> Optional[Caches]:
    """Caches from a ``cpuinfo.get_cpu_info()`` dict, or None when it lacks L1d or L2."""
    try:
        l1d_total = parse_size(info["l1_data_cache_size"])
        l2_total = parse_size(info["l2_cache_size"])
        l3 = parse_size(info.get("l3_cache_size") or 0)
    except (KeyError, ValueError, TypeError):
        return None
    if l1d_total <= 0 or l2_total <= 0:
        return None
    l1d = _per_core(l1d_total, cores, floor=16 * KIB)
    l2 = _per_core(l2_total, cores, floor=128 * KIB)
    # py-cpuinfo sometimes puts /proc/cpuinfo's "cache size" (an L2 figure) in l3;
    # an L3 smaller than one core's L2 cannot be right, so never report less than L2.
    return Caches(l1d_bytes=l1d, l2_bytes=l2, l3_bytes=max(l3, l2), l3_shared_by=logical, source="py-cpuinfo")


@functools.lru_cache(maxsize=1)
def _cpuinfo() -> dict[str, Any]:
    """py-cpuinfo's answer, or {} (it spawns subprocesses and takes about a second)."""
    try:
        import cpuinfo

        return dict(cpuinfo.get_cpu_info())
    except Exception:  # any failure just means we fall back further
        return {}


def detect_caches(sysfs_root: Path = SYSFS_CPU, cores: int = 1, logical: int = 1) -> Caches:
    """sysfs first (exact, per core), then py-cpuinfo, then conservative defaults."""
    return (
        caches_from_sysfs(sysfs_root)
        or caches_from_cpuinfo(_cpuinfo(), cores, logical)
        or DEFAULT_CACHES
    )


def cache_level_for(bytes_: int, caches: Caches) -> str:
    """The smallest cache level ("L1d", "L2", "L3") that holds ``bytes_``, else "RAM".

    L1d and L2 are compared per core (what one worker has); L3 as a whole, since
    it is shared and one worker can use all of it.
    """
    for level, size in (("L1d", caches.l1d_bytes), ("L2", caches.l2_bytes), ("L3", caches.l3_bytes)):
        if bytes_ <= size:
            return level
    return "RAM"


# ---------------------------------------------------------------- the rest of the machine


def memory_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        return 0


def cpu_model(proc_cpuinfo: Path = PROC_CPUINFO) -> str:
    """The CPU's marketing name. /proc/cpuinfo is instant; py-cpuinfo covers macOS and
    Windows, where platform.processor() is often just "arm" or "i386"."""
    for line in (_read(proc_cpuinfo) or "").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return _cpuinfo().get("brand_raw") or platform.processor() or platform.machine() or "unknown"


def python_info() -> PythonInfo:
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+; older Pythons always have the GIL
    return PythonInfo(
        version=platform.python_version(),
        implementation=platform.python_implementation(),
        gil_enabled=bool(is_gil_enabled()) if is_gil_enabled else True,
        free_threaded_build=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        executable=sys.executable,
    )


def start_methods() -> tuple[list[str], str]:
    """Available start methods and the default; allow_none=True so we do not fix the context."""
    methods = multiprocessing.get_all_start_methods()
    default = multiprocessing.get_start_method(allow_none=True) or (methods[0] if methods else "")
    return methods, default


def thread_pools() -> list[dict[str, Any]]:
    """Native thread pools (BLAS, OpenMP) loaded in this process, as threadpoolctl sees them."""
    try:
        import numpy  # noqa: F401  - loads numpy's BLAS so threadpoolctl can see it
    except ImportError:
        pass
    try:
        import threadpoolctl

        info = threadpoolctl.threadpool_info()
    except Exception:
        return []
    keys = ("user_api", "internal_api", "num_threads", "version")
    return [{key: pool.get(key) for key in keys} for pool in info]


@functools.lru_cache(maxsize=None)
def detect_machine(sysfs_root: Path = SYSFS_CPU, cgroup_root: Path = CGROUP_ROOT) -> Machine:
    """This machine, read once per process (call ``detect_machine.cache_clear()`` to re-read)."""
    logical = logical_cpus()
    cores = physical_cores(logical)
    usable, reason = usable_cpus(logical, affinity_cpus(), cgroup_cpu_quota(cgroup_root), env_cpus(os.environ))
    methods, default_method = start_methods()
    return Machine(
        logical_cpus=logical,
        physical_cores=cores,
        usable_cpus=usable,
        usable_cpus_reason=reason,
        caches=detect_caches(sysfs_root, cores, logical),
        memory_bytes=memory_bytes(),
        cpu_model=cpu_model(),
        python=python_info(),
        start_methods=methods,
        default_start_method=default_method,
        thread_pools=thread_pools(),
    )


def machine_fingerprint(machine: Machine) -> str:
    """A short id for "the same machine and Python", so results from different ones are not mixed."""
    caches = machine.caches
    key = [
        machine.cpu_model, machine.usable_cpus,
        caches.l1d_bytes, caches.l2_bytes, caches.l3_bytes,
        machine.python.implementation, machine.python.version,
        machine.python.free_threaded_build, machine.python.gil_enabled,
    ]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16]
