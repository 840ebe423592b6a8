"""advisor.machine: parsers against fake sysfs/cgroup trees, plus one check against this machine."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor import machine as m
from advisor.model import Caches, Machine, PythonInfo
from advisor.present.machine_words import describe_machine
from advisor.units import human_bytes

KIB, MIB = 1024, 1024 * 1024
REAL_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")

# cpu0's caches on a current Intel/AMD server core, as sysfs lists them.
INTEL_INDEXES = [
    {"level": "1", "type": "Data", "size": "48K", "shared_cpu_list": "0", "coherency_line_size": "64"},
    {"level": "1", "type": "Instruction", "size": "32K", "shared_cpu_list": "0", "coherency_line_size": "64"},
    {"level": "2", "type": "Unified", "size": "1024K", "shared_cpu_list": "0", "coherency_line_size": "64"},
    {"level": "3", "type": "Unified", "size": "32768K", "shared_cpu_list": "0-1", "coherency_line_size": "64"},
]


def make_sysfs(root: Path, indexes: list[dict[str, str]]) -> Path:
    for i, files in enumerate(indexes):
        folder = root / "cpu0" / "cache" / f"index{i}"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text + "\n")  # sysfs files end in a newline
    return root


@pytest.fixture(autouse=True)
def fresh_detection():
    """detect_machine is cached per process; tests that change its inputs must not leak."""
    m.detect_machine.cache_clear()
    yield
    m.detect_machine.cache_clear()


def sample_machine(**changes) -> Machine:
    base = Machine(
        logical_cpus=2, physical_cores=2, usable_cpus=2,
        usable_cpus_reason="affinity allows 2 of 2 logical CPUs",
        caches=Caches(l1d_bytes=48 * KIB, l2_bytes=MIB, l3_bytes=32 * MIB, l3_shared_by=2),
        memory_bytes=16 * 1024 * MIB, cpu_model="Test CPU",
        python=PythonInfo("3.11.7", "CPython", gil_enabled=True, free_threaded_build=False, executable="/usr/bin/python3"),
        start_methods=["fork", "spawn", "forkserver"], default_start_method="fork",
        thread_pools=[{"user_api": "blas", "internal_api": "openblas", "num_threads": 2, "version": "0.3.27"}],
    )
    return dataclasses.replace(base, **changes)


# ---------------------------------------------------------------- sysfs caches


def test_fake_intel_sysfs(tmp_path: Path) -> None:
    caches = m.caches_from_sysfs(make_sysfs(tmp_path, INTEL_INDEXES))
    assert caches == Caches(
        l1d_bytes=48 * KIB, l2_bytes=MIB, l3_bytes=32 * MIB,
        l1d_shared_by=1, l2_shared_by=1, l3_shared_by=2, line_bytes=64, source="sysfs",
    )


def test_instruction_cache_is_never_taken_for_l1d(tmp_path: Path) -> None:
    # Some kernels list the instruction cache first; order must not matter.
    indexes = [INTEL_INDEXES[1], INTEL_INDEXES[0], *INTEL_INDEXES[2:]]
    caches = m.caches_from_sysfs(make_sysfs(tmp_path, indexes))
    assert caches is not None and caches.l1d_bytes == 48 * KIB


def test_missing_l3_is_zero_and_data_goes_to_ram(tmp_path: Path) -> None:
    caches = m.caches_from_sysfs(make_sysfs(tmp_path, INTEL_INDEXES[:3]))
    assert caches is not None and caches.l3_bytes == 0
    assert m.cache_level_for(2 * MIB, caches) == "RAM"


def test_no_sysfs_falls_back_to_cpuinfo_then_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert m.caches_from_sysfs(tmp_path) is None
    # What py-cpuinfo 9 reported on a 2-core AMD EPYC: lscpu totals, and L2's size in l3.
    info = {"l1_data_cache_size": 98304, "l2_cache_size": 2097152, "l3_cache_size": 1048576}
    monkeypatch.setattr(m, "_cpuinfo", lambda: info)
    assert m.detect_caches(tmp_path, cores=2, logical=2) == Caches(
        l1d_bytes=48 * KIB, l2_bytes=MIB, l3_bytes=MIB, l3_shared_by=2, source="py-cpuinfo"
    )
    monkeypatch.setattr(m, "_cpuinfo", lambda: {})
    assert m.detect_caches(tmp_path, cores=2, logical=2) == m.DEFAULT_CACHES
    assert m.DEFAULT_CACHES.source == "default"


def test_cpuinfo_per_core_values_are_not_divided() -> None:
    # An Intel Mac's sysctl values are already per core; 32 KiB / 8 cores would be an absurd 4 KiB.
    info = {"l1_data_cache_size": "32 KiB", "l2_cache_size": "256 KiB", "l3_cache_size": "16 MiB"}
    caches = m.caches_from_cpuinfo(info, cores=8, logical=16)
    assert caches == Caches(l1d_bytes=32 * KIB, l2_bytes=256 * KIB, l3_bytes=16 * MIB, l3_shared_by=16, source="py-cpuinfo")


@pytest.mark.parametrize(
    "text, expected",
    [("48K", 48 * KIB), ("1024K", MIB), ("32768K", 32 * MIB), ("2M", 2 * MIB), ("1 MiB", MIB),
     ("512 KB", 512 * KIB), ("65536", 65536), (65536, 65536), ("1G", 1024 * MIB)],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert m.parse_size(text) == expected


def test_parse_size_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        m.parse_size("lots")


@pytest.mark.parametrize(
    "text, expected",
    [("0", [0]), ("0-1", [0, 1]), ("0-3,8-11", [0, 1, 2, 3, 8, 9, 10, 11]), ("0,64", [0, 64]), ("", []), ("5\n", [5])],
)
def test_parse_cpu_list(text: str, expected: list[int]) -> None:
    assert m.parse_cpu_list(text) == expected


@given(st.sets(st.integers(0, 300), max_size=40))
def test_parse_cpu_list_round_trips_kernel_format(cpus: set[int]) -> None:
    # Write the set as the kernel does (maximal runs as "a-b"), then parse it back.
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and runs[-1][1] == cpu - 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    text = ",".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)
    assert m.parse_cpu_list(text) == sorted(cpus)


# ---------------------------------------------------------------- usable CPUs


@pytest.mark.parametrize("text, expected", [("max 100000", None), ("150000 100000", 1.5), ("50000 100000", 0.5)])
def test_parse_cpu_max(text: str, expected: float | None) -> None:
    assert m.parse_cpu_max(text) == expected


@pytest.mark.parametrize(
    "text, usable, reason",
    [("max 100000", 8, "affinity allows 8 of 8 logical CPUs"),
     ("150000 100000", 2, "cgroup cpu.max quota 1.5 CPUs"),
     ("50000 100000", 1, "cgroup cpu.max quota 0.5 CPUs"),
     ("200000 100000", 2, "cgroup cpu.max quota 2 CPUs")],
)
def test_cgroup_v2_quota_limits_usable(tmp_path: Path, text: str, usable: int, reason: str) -> None:
    (tmp_path / "cpu.max").write_text(text + "\n")
    assert m.usable_cpus(8, affinity=8, quota=m.cgroup_cpu_quota(tmp_path)) == (usable, reason)


@pytest.mark.parametrize("quota, expected", [("-1", None), ("200000", (2.0, "cpu.cfs_quota_us"))])
def test_cgroup_v1_quota(tmp_path: Path, quota: str, expected: tuple[float, str] | None) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(quota + "\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert m.cgroup_cpu_quota(tmp_path) == expected


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert m.cgroup_cpu_quota(tmp_path) is None


def test_usable_without_any_limit_names_all_logical_cpus() -> None:
    assert m.usable_cpus(4) == (4, "all 4 logical CPUs")
    assert m.usable_cpus(4, affinity=2) == (2, "affinity allows 2 of 4 logical CPUs")


@pytest.mark.parametrize("value, expected", [("1", 1), (" 3 ", 3), ("0", None), ("-2", None), ("two", None), ("", None)])
def test_env_cpus(value: str, expected: int | None) -> None:
    assert m.env_cpus({"PARADVISE_CPUS": value}) == expected


def test_env_override_caps_detected_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARADVISE_CPUS", "1")
    machine = m.detect_machine()
    assert machine.usable_cpus == 1
    assert machine.usable_cpus_reason == "PARADVISE_CPUS=1"


def test_env_override_wins_ties() -> None:
    assert m.usable_cpus(8, affinity=2, quota=(2.0, "cpu.max"), override=2) == (2, "PARADVISE_CPUS=2")


# ---------------------------------------------------------------- cache levels, fingerprint, words


@pytest.mark.parametrize(
    "size, level",
    [(0, "L1d"), (48 * KIB, "L1d"), (48 * KIB + 1, "L2"), (MIB, "L2"), (MIB + 1, "L3"),
     (32 * MIB, "L3"), (32 * MIB + 1, "RAM")],
)
def test_cache_level_for_boundaries(size: int, level: str) -> None:
    caches = Caches(l1d_bytes=48 * KIB, l2_bytes=MIB, l3_bytes=32 * MIB, l3_shared_by=2)
    assert m.cache_level_for(size, caches) == level


def test_fingerprint_is_short_stable_and_sensitive() -> None:
    machine = sample_machine()
    fingerprint = m.machine_fingerprint(machine)
    assert len(fingerprint) == 16 and set(fingerprint) <= set("0123456789abcdef")
    assert m.machine_fingerprint(sample_machine()) == fingerprint
    # Memory and thread pools are not part of it; usable CPUs and the Python build are.
    assert m.machine_fingerprint(sample_machine(memory_bytes=1)) == fingerprint
    assert m.machine_fingerprint(sample_machine(usable_cpus=1)) != fingerprint
    free = dataclasses.replace(machine.python, free_threaded_build=True, gil_enabled=False)
    assert m.machine_fingerprint(sample_machine(python=free)) != fingerprint


def test_describe_machine_rows() -> None:
    rows = dict(describe_machine(sample_machine()))
    assert rows["L1d (per core)"] == "48.0 KiB, shared by 1 CPU"
    assert rows["L2 (per core)"] == "1.0 MiB, shared by 1 CPU"
    assert rows["L3"] == "32.0 MiB, shared by 2 CPUs"
    assert rows["Usable CPUs"] == "2 (affinity allows 2 of 2 logical CPUs)"
    assert rows["Memory"] == "16.0 GiB"
    assert rows["Native thread pools"] == "openblas 0.3.27 (blas): 2 threads"
    assert all(isinstance(label, str) and isinstance(value, str)
               for label, value in describe_machine(sample_machine()))


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536 * MIB, "1.5 GiB"),
                                     (3 * 1024 * 1024 * MIB, "3.0 TiB")])
def test_human_bytes(n: int, text: str) -> None:
    assert human_bytes(n) == text


# ---------------------------------------------------------------- this machine


def _real_level(level: int) -> tuple[int, int] | None:
    for index in REAL_CACHE.glob("index*"):
        read = lambda name: (index / name).read_text().strip()  # noqa: E731
        if int(read("level")) == level and read("type") in ("Data", "Unified"):
            return m.parse_size(read("size")), len(m.parse_cpu_list(read("shared_cpu_list")))
    return None


@pytest.mark.skipif(not REAL_CACHE.is_dir(), reason="no sysfs cache information on this machine")
def test_detect_machine_matches_real_sysfs() -> None:
    caches = m.detect_machine().caches
    assert caches.source == "sysfs"
    for level, size, shared in ((1, caches.l1d_bytes, caches.l1d_shared_by),
                                (2, caches.l2_bytes, caches.l2_shared_by),
                                (3, caches.l3_bytes, caches.l3_shared_by)):
        assert (size, shared) == (_real_level(level) or (0, 1))


def test_detect_machine_basics_and_cache() -> None:
    machine = m.detect_machine()
    assert m.detect_machine() is machine  # cached
    assert 1 <= machine.usable_cpus <= machine.logical_cpus
    assert 1 <= machine.physical_cores <= machine.logical_cpus
    assert machine.default_start_method in machine.start_methods
    assert machine.memory_bytes > 0 and machine.cpu_model
    assert all(set(pool) == {"user_api", "internal_api", "num_threads", "version"} for pool in machine.thread_pools)


def test_machine_json_round_trip() -> None:
    machine = m.detect_machine()
    assert Machine.from_json(json.loads(json.dumps(machine.to_json()))) == machine
    assert Machine.from_json(sample_machine().to_json()) == sample_machine()
