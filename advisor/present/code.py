"""Runnable code for a recommendation: one template per concurrency model.

The snippet imports the target from the user's script (by module name) and maps it
over ``items``, with the exact pool, workers and chunksize that were measured.

A target defined inside another function (``main.score``: a closure, a nested ``def``
or a lambda bound there) cannot be imported; its snippet maps a function it is given,
``map_score(score, items)``, to be called where ``score`` is in scope.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from ..model import Recommendation

HEADER = '''# paradvise: {summary}, as measured on this machine.
{import_line}

'''

TEMPLATES = {
    "serial": '''def map_{name}(items):
    return [{call}(x) for x in items]
''',
    "threads": '''from concurrent.futures import ThreadPoolExecutor


def map_{name}(items):
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return list(pool.map({call}, items))
''',
    "threads_chunked": '''from concurrent.futures import ThreadPoolExecutor

CHUNKSIZE = {chunksize}


def _{name}_chunk(chunk):
    return [{call}(x) for x in chunk]


def map_{name}(items):
    items = list(items)
    chunks = [items[i:i + CHUNKSIZE] for i in range(0, len(items), CHUNKSIZE)]
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return [result for part in pool.map(_{name}_chunk, chunks) for result in part]
''',
    "processes": '''import multiprocessing


def map_{name}(items):
    # The main guard below matters: worker processes may import this module.
    context = multiprocessing.get_context("{start_method}")
    with context.Pool(processes={workers}) as pool:
        return pool.{map_name}({call}, items, chunksize={chunksize})
''',
    "dask": '''{dask_import}


def map_{name}(items):
    # The main guard below matters: Dask's worker processes may import this module.
    {dask_with}
        return client.gather(client.map({call}, items, pure=False))
''',
    "dask_chunked": '''{dask_import}

CHUNKSIZE = {chunksize}


def _{name}_chunk(chunk):
    return [{call}(x) for x in chunk]


def map_{name}(items):
    # The main guard below matters: Dask's worker processes may import this module.
    items = list(items)
    chunks = [items[i:i + CHUNKSIZE] for i in range(0, len(items), CHUNKSIZE)]
    {dask_with}
        parts = client.gather(client.map(_{name}_chunk, chunks, pure=False))
    return [result for part in parts for result in part]
''',
    "joblib": '''from joblib import Parallel, delayed


def map_{name}(items):
    # loky worker processes; functions are sent with cloudpickle.
    return Parallel(n_jobs={workers}, backend="loky", batch_size={batch_size})(
        delayed({call})({joblib_args}) for x in items)
''',
    "interpreters": '''from concurrent.futures import InterpreterPoolExecutor


def map_{name}(items):
    # One subinterpreter per worker, each with its own GIL (Python 3.14+).
    with InterpreterPoolExecutor(max_workers={workers}) as pool:
        return list(pool.map({call}, items, chunksize={chunksize}))
''',
    "asyncio": '''import asyncio


async def map_{name}(items):
    gate = asyncio.Semaphore({workers})  # at most {workers} awaiting at once

    async def _{name}_bounded(x):
        async with gate:
            return await {call}(x)

    return await asyncio.gather(*(_{name}_bounded(x) for x in items))
''',
}

FOOTER = {
    "asyncio": '''

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


def _template_key(rec: Recommendation) -> str:
    if rec.executor in ("threads", "dask") and rec.chunksize and rec.chunksize > 1:
        return f"{rec.executor}_chunked"
    return rec.executor if rec.executor in TEMPLATES else "serial"


def emit(rec: Recommendation, script: str, name: str, call_style: str = "single",
         dask_address: Optional[str] = None, is_coroutine: bool = True, kind: str = "def",
         is_generator: bool = False) -> str:
    """Python source for ``rec``; ``call_style`` "star" means items are argument tuples.

    ``dask_address``: the scheduler the Dask trials used ("local" or None: a LocalCluster).
    ``is_coroutine`` False with asyncio: a blocking function, awaited via asyncio.to_thread.
    ``name`` is the target's display name: ``score``, ``main.score`` (defined inside
    main()), ``Encoder.encode`` (a method, ``kind`` "method": its items start with the
    instance), ``helpers:score`` (in the user's module ``helpers``). A generator function
    is consumed by a module-level helper, which pools can send like any function.
    """
    module, _, qualname = name.rpartition(":")
    module = module or Path(script).stem
    owner, _, name = qualname.rpartition(".")
    outer = "" if kind == "method" else owner  # "main.score": score, defined inside main()
    call = f"{owner}.{name}" if kind == "method" else name
    imported = owner if kind == "method" else name
    key = _template_key(rec)
    star = call_style == "star"
    head = in_scope_note(outer, name) if outer else import_line(module, imported)
    if is_generator and not outer:
        head += CONSUMER.format(name=name, call=call)
        call = f"consume_{name}"
    fields = {
        "module": module, "name": name, "workers": rec.workers,
        "chunksize": rec.chunksize or 1, "start_method": rec.start_method or "fork",
        "call": call, "map_name": "starmap" if star else "map",
        "batch_size": rec.chunksize if rec.chunksize and rec.chunksize > 1 else '"auto"',
        "joblib_args": "*x" if star else "x", "outer": outer, "awaited": "await " if key == "asyncio" else "",
        "summary": summary(rec), "import_line": head,
        **dask_fields(rec.workers, dask_address),
    }
    body = TEMPLATES[key].format(**fields)
    if key == "asyncio" and not is_coroutine:
        body = body.replace(f"await {call}(x)", f"await asyncio.to_thread({call}, x)")
    if star and key != "processes":
        body = body.replace(f"{call}(x)", f"{call}(*x)").replace(f"pool.map({call}, items)",
                                                                   f"pool.map(lambda x: {call}(*x), items)")
        body = body.replace(f"client.map({call}, items", f"client.map(lambda x: {call}(*x), items")
    if key == "interpreters" and star:
        body = body.replace(f"pool.map({call}, items", f"pool.map(lambda x: {call}(*x), items")
    if rec.blas_threads:
        body = with_blas_limit(body, rec.blas_threads)
    if outer:
        body = taking_the_function(body, name)
        if key == "processes":
            body = through_trampoline(body, name, outer)
        return HEADER.format(**fields) + body + FOOTER["in_scope"].format(**fields)
    footer = FOOTER["asyncio" if key == "asyncio" else "default"].format(**fields)
    return HEADER.format(**fields) + body + footer


# A generator function's work happens while it is consumed: that is what is mapped.
CONSUMER = """


def consume_{name}(*args, **kwargs):
    # {name} is a generator function: the loop's unit of work is consuming what it yields.
    return list({call}(*args, **kwargs))"""


def with_blas_limit(body: str, threads: int) -> str:
    """Wrap the pool in ``threadpool_limits``: measured faster than leaving BLAS one thread per core.

    A fork pool's workers start inside the ``with``, so they inherit the limit.
    """
    limit = f'threadpool_limits(limits={threads}, user_api="blas")'
    comment = (f"    # BLAS limited to {threads} thread per worker (measured faster than one per core each):\n"
               "    # workers x BLAS threads would otherwise oversubscribe the CPUs.\n")
    for pool in ("ThreadPoolExecutor(", "context.Pool("):
        body = body.replace(f"    with {pool}", f"{comment}    with {limit}, {pool}")
    return "from threadpoolctl import threadpool_limits\n" + body


def in_scope_note(outer: str, name: str) -> str:
    return (f"# {name} is defined inside {outer}(), so it cannot be imported: map_{name} takes it as an\n"
            f"# argument. Call it inside {outer}(), where {name} is in scope (see the end of this snippet).")


_CHUNK_HELPER = r"\n\ndef _{name}_chunk\(chunk\):\n    return (?P<expr>.*)\n"


def taking_the_function(body: str, name: str) -> str:
    """A template body whose ``map_{name}`` takes the function to map as its first argument.

    A chunk helper that calls ``name`` moves inside ``map_{name}``, where the argument is.
    There is no main guard below a snippet like this: the one the script needs is its own.
    """
    body = body.replace(f"def map_{name}(items", f"def map_{name}({name}, items")
    body = body.replace("# The main guard below matters:", "# A main guard in the script matters:")
    helper = re.search(_CHUNK_HELPER.format(name=re.escape(name)), body)
    if helper is None:
        return body
    body = body[:helper.start()] + body[helper.end():]
    head, sep, rest = body.partition(f"def map_{name}({name}, items):\n")
    nested = f"    def _{name}_chunk(chunk):\n        return {helper.group('expr')}\n\n"
    return head + sep + nested + rest

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


def dask_fields(workers: int, address: Optional[str]) -> dict[str, str]:
    """The Dask import and ``with`` line: connect to ``address``, or start a LocalCluster like the trials."""
    if address and address != "local":
        return {"dask_import": "from dask.distributed import Client",
                "dask_with": ("# The workers must be able to import the target's module "
                              "(client.upload_file sends it).\n"
                              f"    with Client({address!r}) as client:")}
    return {"dask_import": "from dask.distributed import Client, LocalCluster",
            "dask_with": (f"with LocalCluster(n_workers={workers}, threads_per_worker=1, processes=True) as cluster, "
                          "Client(cluster) as client:")}


def import_line(module: str, name: str) -> str:
    """Import the target; a script named like ``my-script.py`` needs importlib."""
    if module.isidentifier():
        return f"from {module} import {name}"
    return f"import importlib\n\n{name} = importlib.import_module({module!r}).{name}"


def summary(rec: Recommendation) -> str:
    if rec.executor == "serial":
        return "stay serial"
    parts = [rec.executor, f"{rec.workers} workers"]
    if rec.chunksize and rec.chunksize > 1:
        parts.append(f"chunksize {rec.chunksize}")
    if rec.blas_threads:
        parts.append(f"BLAS on {rec.blas_threads} thread per worker")
    return ", ".join(parts) + f": {rec.expected_speedup:.2f}x faster than serial"


def map_helper(rec: Recommendation, name: str, helper: str, style: str,
               dask_address: Optional[str]) -> tuple[str, list[str]]:
    """A function ``helper(items)`` that maps ``name`` as ``rec`` says, for a loop rewritten in
    place (present/rewrite.py), and the import lines it needs; with BLAS limited as the
    report's code limits it (``with_blas_limit``)."""
    text, imports = _plain_map_helper(rec, name, helper, style, dask_address)
    if rec.blas_threads:
        limited = with_blas_limit(text, rec.blas_threads)
        first, _, text = limited.partition("\n")
        imports = [*imports, first]
    return text, imports


def _plain_map_helper(rec: Recommendation, name: str, helper: str, style: str,
                   dask_address: Optional[str]) -> tuple[str, list[str]]:
    star = style == "star"
    call = f"{name}(*x)" if star else f"{name}(x)"
    workers, chunksize = rec.workers, rec.chunksize or 1
    if rec.executor == "processes":
        method = "starmap" if star else "map"
        return (f'''def {helper}(items):
    context = multiprocessing.get_context("{rec.start_method or 'fork'}")
    with context.Pool(processes={workers}) as pool:
        return pool.{method}({name}, items, chunksize={chunksize})
''', ["import multiprocessing"])
    if rec.executor == "threads" and chunksize > 1:
        return (f'''def {helper}(items, chunksize={chunksize}):
    def run_chunk(chunk):
        return [{call} for x in chunk]

    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return [result for part in pool.map(run_chunk, chunks) for result in part]
''', ["from concurrent.futures import ThreadPoolExecutor"])
    if rec.executor == "threads":
        fn = f"lambda x: {call}" if star else name
        return (f'''def {helper}(items):
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return list(pool.map({fn}, items))
''', ["from concurrent.futures import ThreadPoolExecutor"])
    if rec.executor == "asyncio":
        return (f'''async def {helper}(items):
    gate = asyncio.Semaphore({workers})  # at most {workers} awaiting at once

    async def bounded(x):
        async with gate:
            return await {call}

    return await asyncio.gather(*(bounded(x) for x in items))
''', ["import asyncio"])
    if rec.executor == "joblib":
        batch = rec.chunksize if rec.chunksize else '"auto"'
        args = "*x" if star else "x"
        return (f'''def {helper}(items):
    return Parallel(n_jobs={workers}, backend="loky", batch_size={batch})(delayed({name})({args}) for x in items)
''', ["from joblib import Parallel, delayed"])
    if rec.executor == "dask":
        fields = dask_fields(workers, dask_address)
        fn = f"lambda x: {call}" if star else name
        if chunksize > 1:
            return (f'''def {helper}(items, chunksize={chunksize}):
    def run_chunk(chunk):
        return [{call} for x in chunk]

    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    {fields["dask_with"]}
        parts = client.gather(client.map(run_chunk, chunks, pure=False))
    return [result for part in parts for result in part]
''', [fields["dask_import"]])
        return (f'''def {helper}(items):
    {fields["dask_with"]}
        return client.gather(client.map({fn}, list(items), pure=False))
''', [fields["dask_import"]])
    raise ValueError(f"no in-place rewrite for {rec.executor}")
