"""Module state: snapshots that tell whether the target changed it, and restore it.

A target that updates module globals behaves differently in worker processes (the
updates happen in copies and are lost), and a replay that starts from the state the
real loop left behind (a warm cache, a grown list) would not measure the real loop.
"""
from __future__ import annotations

import hashlib
import pickle
import types
from typing import Any, Optional

from .equality import same


def _digest(value: Any) -> Optional[str]:
    try:
        return hashlib.sha1(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    except Exception:  # noqa: BLE001 - unpicklable globals cannot be compared
        return None


def _is_state(name: str, value: Any) -> bool:
    if name.startswith("__"):
        return False
    return not isinstance(value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType))


def globals_digest(namespace: dict[str, Any]) -> dict[str, Optional[str]]:
    return {k: _digest(v) for k, v in list(namespace.items()) if _is_state(k, v)}


def changed_globals(before: dict[str, Optional[str]], after: dict[str, Optional[str]]) -> list[str]:
    """Names added, or whose (picklable) value changed, between two digests."""
    names = [k for k in after if k not in before or (after[k] is not None and after[k] != before[k])]
    return sorted(names)


def snapshot(namespace: dict[str, Any]) -> dict[str, bytes]:
    """Pickled copies of the module's state values (the ones that can be pickled)."""
    out = {}
    for name, value in list(namespace.items()):
        if _is_state(name, value):
            try:
                out[name] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - unpicklable state cannot be restored
                continue
    return out


def restore(namespace: dict[str, Any], snap: dict[str, bytes]) -> None:
    """Put the snapshot's values back into ``namespace``.

    A bound method (``from random import randint``) is restored into the object it is bound
    to, not rebound to an unpickled copy: the script's ``randint`` and the ``random`` module
    share one generator, and a copy would split them (``random.seed(n)`` would then no
    longer decide what ``randint`` returns).
    """
    for name, blob in snap.items():
        value = pickle.loads(blob)
        if not _restored_in_place(namespace.get(name), value):
            namespace[name] = value


def _restored_in_place(current: Any, value: Any) -> bool:
    if not (isinstance(current, types.MethodType) and isinstance(value, types.MethodType)):
        return False
    owner, copied = current.__self__, value.__self__
    setter = getattr(owner, "__setstate__", None)
    if setter is None or type(owner) is not type(copied):
        return False
    reduced = copied.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if not isinstance(reduced, tuple) or len(reduced) < 3 or reduced[2] is None:
        return False
    setter(reduced[2])
    return True


def digest_of_snapshot(snap: dict[str, bytes]) -> dict[str, Optional[str]]:
    return {k: hashlib.sha1(v).hexdigest() for k, v in snap.items()}


def arguments_changed(items: list[Any], before: bytes) -> bool:
    """Did mapping the target change its (pickled-before) arguments in place?"""
    try:
        if pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL) == before:
            return False
        # Equal objects can pickle differently (set order, shared references): compare values.
        return not same(pickle.loads(before), items)
    except Exception:  # noqa: BLE001 - cannot tell: do not claim a mutation
        return False
