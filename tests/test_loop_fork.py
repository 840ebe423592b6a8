"""The zygote: a fork taken at the first call that measures later (advisor/loop_fork.py)."""
from __future__ import annotations

import os
import time

import numpy as np
import psutil
import pytest

from advisor.measure.loop_fork import (
    ArrayRef,
    Zygote,
    array_fingerprint,
    arrays_in_reach,
    as_reference,
    resolve,
)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_zygote_answers_from_the_state_it_was_forked_in() -> None:
    state = {"value": "at the fork"}
    zygote = Zygote.fork_here(lambda request: {"echo": bytes(request).decode(), "state": state["value"]})
    state["value"] = "changed later in the parent"
    assert zygote is not None
    answer = zygote.run(b"a request", timeout=30)
    assert answer == {"echo": "a request", "state": "at the fork"}
    assert gone(zygote.pid)


def test_a_discarded_zygote_leaves_nothing_behind() -> None:
    zygote = Zygote.fork_here(lambda request: {})
    zygote.discard()
    assert gone(zygote.pid)
    assert not os.path.exists(zygote.result_path)


def test_a_zygote_that_fails_or_hangs_is_reported_not_waited_for() -> None:
    def fail(request):
        raise RuntimeError("boom")

    assert "died" in Zygote.fork_here(fail).run(b"x", timeout=30)["host_error"]
    slow = Zygote.fork_here(lambda request: time.sleep(60) or {})
    started = time.monotonic()
    assert "did not finish" in slow.run(b"x", timeout=0.5)["host_error"]
    assert time.monotonic() - started < 10 and gone(slow.pid)


def test_arrays_go_by_reference_and_come_back_as_the_same_objects() -> None:
    signals = [np.arange(1000.0) * i for i in range(3)]
    refs = [as_reference(s) for s in signals]
    assert all(isinstance(r, ArrayRef) for r in refs)
    assert as_reference((1, "x")) == (1, "x")  # anything else is sent as it is
    import sys
    arrays = arrays_in_reach(sys._getframe(), {})
    assert [resolve(r, arrays) for r in refs] == signals and resolve(refs[0], arrays) is signals[0]


def test_an_array_made_after_the_fork_cannot_be_resolved() -> None:
    stranger = np.ones(10)
    ref = ArrayRef(id(stranger) + 16, array_fingerprint(stranger))
    with pytest.raises(LookupError):
        resolve(ref, {})
    with pytest.raises(LookupError):  # same address, different array: the fingerprint tells
        resolve(ArrayRef(id(stranger), (0, (10,), None, "<f8")), {id(stranger): stranger})


def test_arguments_made_during_the_loop_are_measured_from_the_last_call(tmp_path) -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent / "scripts" / "arrays_made_in_loop.py"
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "advisor", "profile", str(script), "--budget", "3",
                           "--executors", "serial,threads", "--json", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["data"]["measured_from"] == "last call"
    assert all(t["ok"] for t in report["trials"])


def test_large_buffers_alive_at_the_fork_go_by_reference() -> None:
    from advisor.measure.loop_fork import BUFFER_BY_REFERENCE, dumps_referring, loads_referring

    big = b"x" * BUFFER_BY_REFERENCE
    text = "y" * (2 * BUFFER_BY_REFERENCE)
    later = b"z" * BUFFER_BY_REFERENCE  # made after the fork: sent by value
    at_start = {id(big): big, id(text): text}
    value = [(1, big), {"t": text}, later, b"small"]
    sent = dumps_referring(value, at_start)
    assert len(sent) < BUFFER_BY_REFERENCE + 1000  # only ``later`` travels
    back = loads_referring(sent, lambda: at_start)
    assert back == value and back[0][1] is big and back[1]["t"] is text
    # A zygote that lacks one says so, and the parent measures instead.
    with pytest.raises(LookupError):
        loads_referring(sent, lambda: {id(big): big})
    assert loads_referring(dumps_referring(value, {}), lambda: {}) == value


def test_only_a_loop_passing_large_buffers_looks_for_them_at_the_fork() -> None:
    from advisor.measure.loop_fork import BUFFER_BY_REFERENCE, holds_large_buffer

    big = b"x" * BUFFER_BY_REFERENCE
    assert holds_large_buffer([big]) and holds_large_buffer([("id", big)]) and holds_large_buffer([{"b": big}])
    assert not holds_large_buffer(["a short line", 3, ("id", b"small")])
    assert not holds_large_buffer([["s"] * 300_000])  # many small strings: nothing to refer to
