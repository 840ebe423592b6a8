"""Runnable code for a recommendation, around the map its executor's module writes.

The snippet imports the target from the user's script (by module name) and maps it
over ``items``, with the exact pool, workers and chunksize that were measured.

A target defined inside another function (``main.score``: a closure, a nested ``def``
or a lambda bound there) cannot be imported; its snippet maps a function it is given,
``map_score(score, items)``, to be called where ``score`` is in scope.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional

from .. import executors
from ..measure.loop_body import LoopBody
from ..model import Recommendation
from .advice_words import advice_phrase
from .loop_body_text import function_source

HEADER = """# paradvise: {summary}, as measured on this machine.
{imports}


"""

FOOTER = {
    "async": '''

if __name__ == "__main__":
    items = []  # the same items your loop passes to {name}
    print(asyncio.run(map_{name}(items)))
''',
    "default": '''

if __name__ == "__main__":
    items = []  # the same items your loop passes to {name}
    print(map_{name}(items))
''',
    # A target defined inside another function: there is nothing to import and run here.
    "in_scope": '''

# Inside {outer}(), where {name} is defined, in place of the loop over {name}:
#     results = {awaited}map_{name}({name}, items)
''',
}


def emit(rec: Recommendation, script: str, name: str, call_style: str = "single",
         dask_address: Optional[str] = None, is_coroutine: bool = False, kind: str = "def",
         is_generator: bool = False) -> str:
    """Python source for ``rec``; ``call_style`` "star" means items are argument tuples.

    ``dask_address``: the scheduler the Dask trials used ("local" or None: a LocalCluster).
    ``is_coroutine``: the target is ``async def``; a blocking function is awaited via asyncio.to_thread.
    ``name`` is the target's display name: ``score``, ``main.score`` (defined inside
    main()), ``Encoder.encode`` (a method, ``kind`` "method": its items start with the
    instance), ``helpers:score`` (in the user's module ``helpers``). A generator function
    is consumed by a module-level helper, which pools can send like any function.
    The map itself is written by the executor's own module (advisor/executors/).
    """
    module, _, qualname = name.rpartition(":")
    module = module or Path(script).stem
    owner, _, name = qualname.rpartition(".")
    outer = "" if kind == "method" else owner  # "main.score": score, defined inside main()
    call = f"{owner}.{name}" if kind == "method" else name
    imported = owner if kind == "method" else name
    head = in_scope_note(outer, name) if outer else import_line(module, imported)
    if is_generator and not outer:
        head += CONSUMER.format(name=name, call=call)
        call = f"consume_{name}"
    executor = executors.get(rec.executor if rec.executor in executors.REGISTRY else "serial")
    code = executor.code(spec_for(rec, call, f"map_{name}", call_style, dask_address,
                                  is_coroutine))
    body = code.text
    fields = {"name": name, "outer": outer, "awaited": "await " if code.is_async else "", "summary": summary(rec),
              "imports": "\n".join((*code.imports, head)) if code.imports else head}
    if outer:
        body = body.replace(f"def map_{name}(items", f"def map_{name}({name}, items", 1)
        if executor.forked_trampoline:
            body = through_trampoline(body, name, outer)
        return HEADER.format(**fields) + body + FOOTER["in_scope"].format(**fields)
    return HEADER.format(**fields) + body + FOOTER["async" if code.is_async else "default"].format(**fields)


def spec_for(rec: Recommendation, call: str, helper: str, call_style: str, dask_address: Optional[str],
             is_coroutine: bool) -> executors.CodeSpec:
    return executors.CodeSpec(call, helper, rec.workers, rec.chunksize, rec.start_method,
                              star=call_style == "star", is_coroutine=is_coroutine, dask_address=dask_address,
                              blas_threads=rec.blas_threads)


# A generator function's work happens while it is consumed: that is what is mapped.
CONSUMER = """


def consume_{name}(*args, **kwargs):
    # {name} is a generator function: the loop's unit of work is consuming what it yields.
    return list({call}(*args, **kwargs))"""


def in_scope_note(outer: str, name: str) -> str:
    return (f"# {name} is defined inside {outer}(), so it cannot be imported: map_{name} takes it as an\n"
            f"# argument. Call it inside {outer}(), where {name} is in scope (see the end of this snippet).")


TRAMPOLINE = """
# {name} is defined inside {outer}(), so pickle cannot send it to worker processes. Workers
# forked after it is stored here inherit it, and this module-level function reaches it:
# that needs the fork start method (spawn and forkserver would start without it).
_TARGET = None


def _call_{name}(*args):
    return _TARGET(*args)

"""


def through_trampoline(body: str, name: str, outer: str, helper: str = "") -> str:
    """A process pool body that maps a closure through a module-level trampoline.

    ``helper`` is the function that takes the closure and the items (``map_{name}``).
    """
    body = re.sub(rf"pool\.(map|starmap)\({re.escape(name)}, ", rf"pool.\1(_call_{name}, ", body)
    head, sep, rest = body.partition(f"def {helper or 'map_' + name}({name}, items")
    sep, rest = sep + rest.partition("\n")[0] + "\n", rest.partition("\n")[2]
    store = f"    global _TARGET\n    _TARGET = {name}\n"
    return head + TRAMPOLINE.format(name=name, outer=outer) + "\n" + sep + store + rest


def import_line(module: str, name: str) -> str:
    """Import the target; a script named like ``my-script.py`` needs importlib."""
    if module.isidentifier():
        return f"from {module} import {name}"
    return f"import importlib\n\n{name} = importlib.import_module({module!r}).{name}"


def summary(rec: Recommendation) -> str:
    """The comment above the code: the advice as the report's title says it."""
    return advice_phrase(rec.executor, rec.workers, rec.chunksize, rec.start_method, rec.blas_threads,
                         rec.expected_speedup if rec.executor != "serial" else None)


def map_helper(rec: Recommendation, name: str, helper: str, style: str,
               dask_address: Optional[str]) -> tuple[str, list[str]]:
    """A function ``helper(items)`` that maps ``name`` as ``rec`` says, for a loop rewritten in
    place (present/rewrite.py), and the import lines it needs: the same code as ``emit``'s."""
    code = executors.get(rec.executor).code(spec_for(rec, name, helper, style, dask_address,
                                                     rec.executor == "asyncio"))
    return code.text, list(code.imports)


def with_body_function(code: str, body: LoopBody, script: Path) -> str:
    """The report's code for a loop body (measure/loop_body.py): the function paradvise made of
    it, in place of an import of it (the script does not define it; --emit writes it in)."""
    try:
        source = script.read_text(encoding="utf-8")
        made = function_source(source, ast.parse(source), body)
    except (OSError, SyntaxError, ValueError):
        return code
    function = body.function_name
    where = f"inside {body.scope}(), before the loop" if body.nested else "in the script, at module level"
    several = ("# It returns a tuple, a value for each list the loop appends to: loop over the map's\n"
               "# results and append each value to its list.\n") if body.outputs > 1 else ""
    note = (f"# {function}: the body of the loop at {script.name}:{body.loop_line}, as a function\n"
            f"# of the loop variable. Put it {where};\n{several}# paradvise profile --emit writes it in for you.\n")
    own_import = import_line(Path(script).stem, function)
    if own_import in code:
        return code.replace(own_import, note + made.rstrip("\n"), 1)
    header, _, rest = code.partition("\n\n\n")
    return f"{header}\n\n\n{note}{made}\n\n{rest}"
