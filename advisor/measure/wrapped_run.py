"""Running the user's code with its functions wrapped: the script as ``__main__`` (``run_script``)
and the user's own modules, the files of its project the script imports.

In real projects the hot function usually lives in the user's package, not in the script
(``from helpers import score``). Those modules are wrapped as the script is: an import
hook finds each module loaded from a file under the script's folder (or the working
directory) that is not part of Python or of an installed package, and adds the capture
decorators to its source before compiling it. Their display names are
``module:qualname`` (``helpers:score``, ``pkg.text:Tokenizer.encode``).

The hook compiles from source and writes no bytecode cache, so nothing is written into
the user's folders.
"""
from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import os
import site
import sys
import sysconfig
import types
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .loop_body import LoopBody, extract_tree
from .user_script import (
    CAPTURE_BY_NAME,
    CAPTURE_DECORATOR,
    decorate,
    replayable_functions,
    top_level_functions,
)

_ADVISOR_DIR = Path(__file__).resolve().parent


def not_user_code() -> list[Path]:
    """Folders whose files are Python's or installed packages', never the user's own."""
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, *site.getsitepackages(), site.getusersitepackages()}
    places.update(p for p in sysconfig.get_paths().values() if p)
    return [Path(p).resolve() for p in places if p] + [_ADVISOR_DIR]


def is_user_file(path: Path, roots: Sequence[Path], excluded: Sequence[Path]) -> bool:
    resolved = path.resolve()
    if any(resolved.is_relative_to(place) for place in excluded):
        return False
    return any(resolved.is_relative_to(root) for root in roots)


class WrappingLoader(importlib.machinery.SourceFileLoader):
    """Loads a user's module with the capture decorators added to its source."""

    def __init__(self, fullname: str, path: str, wrappers: Any) -> None:
        super().__init__(fullname, path)
        self.wrappers = wrappers

    def get_code(self, fullname: str) -> Any:
        # Always from source: a cached .pyc would be the module without the decorators.
        source = self.get_data(self.path)
        tree = ast.parse(source, filename=self.path)
        tree = decorate(tree, self.wrappers.__contains__, module=fullname)
        return compile(tree, self.path, "exec", dont_inherit=True)

    def exec_module(self, module: Any) -> None:
        module.__dict__[CAPTURE_BY_NAME] = self.wrappers.__getitem__
        super().exec_module(module)


class UserModuleFinder(importlib.abc.MetaPathFinder):
    def __init__(self, roots: Sequence[Path], script: Path, wrappers: Any) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        self.script = script.resolve()
        self.excluded = not_user_code()
        self.wrappers = wrappers

    def find_spec(self, fullname: str, path: Optional[Sequence[str]], target: Any = None) -> Any:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader) or not spec.origin:
            return None
        origin = Path(spec.origin)
        named = any(isinstance(n, str) and n.startswith(f"{fullname}:") for n in dict.keys(self.wrappers))
        if origin.resolve() == self.script or not (named or is_user_file(origin, self.roots, self.excluded)):
            return None  # an installed package's module is wrapped only when --function names it
        spec.loader = WrappingLoader(fullname, spec.origin, self.wrappers)
        return spec


def install_finder(roots: Sequence[Path], script: Path, wrappers: Any) -> None:
    """Wrap functions of the user's modules the script imports from now on (host process only),
    and the named functions of modules already imported (``--function json:dumps``)."""
    sys.meta_path.insert(0, UserModuleFinder(roots, script, wrappers))
    for name in [n for n in dict.keys(wrappers) if isinstance(n, str) and ":" in n]:
        wrap_loaded(name, wrappers[name])


def wrap_loaded(name: str, decorator: Any) -> bool:
    """Replace ``module:qualname`` in a module already imported by its wrapped self.

    The script's own ``from module import f`` (run later) then gets the wrapper, and so do
    calls through ``module.f``. A method is wrapped on its class. False when not found.
    """
    module_name, _, qualname = name.partition(":")
    owner: Any = sys.modules.get(module_name)
    if owner is None:
        return False
    *path, local = qualname.split(".")
    for part in path:
        owner = getattr(owner, part, None)
    current = getattr(owner, local, None) if owner is not None else None
    if not callable(current) or not hasattr(current, "__code__"):
        return False  # a builtin or C function: there is no Python call to record
    setattr(owner, local, decorator(current))
    return True


def definitions_in(file: str, module: str) -> dict[str, Any]:
    """The replayable functions of a user's module file, by display name (``mod:qualname``)."""
    if not file:
        return {}
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"), filename=file)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    return replayable_functions(tree, module, file)


def run_script(
    path: Path,
    argv: list[str],
    wrappers: Optional["Wrappers"] = None,
    loop_bodies: Sequence[LoopBody] = (),
    after_loop: Optional[tuple[Any, Callable[[], None]]] = None,
) -> types.ModuleType:
    """Execute the script as ``__main__`` (like runpy.run_path), optionally wrapping functions.

    ``argv`` is the full ``sys.argv`` (argv[0] as the user typed it, like python keeps it).
    ``wrappers`` maps display names (``replayable_functions``) to decorators applied to
    them, in the script and in the user's own modules it imports (the import hook below).
    ``loop_bodies``: first make those loops' bodies functions (loop_body.py), to be wrapped.
    ``after_loop``: (speculate.Guess, callback): call that right after the guessed loop.
    Exceptions, including SystemExit, propagate.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    for body in loop_bodies:
        tree = extract_tree(tree, body)
    module = types.ModuleType("__main__")
    module.__dict__.update(
        __file__=str(path), __builtins__=__builtins__, __spec__=None, __loader__=None, __cached__=None
    )
    if after_loop is not None:
        from .speculate import LOOP_DONE, with_check

        tree = with_check(tree, after_loop[0])
        module.__dict__[LOOP_DONE] = after_loop[1]
    if wrappers is not None:
        tree = decorate(tree, wrappers.__contains__)
        for name in top_level_functions(tree):
            if name in wrappers:
                module.__dict__[CAPTURE_DECORATOR.format(name)] = wrappers[name]
        module.__dict__[CAPTURE_BY_NAME] = wrappers.__getitem__
        install_finder([path.parent, Path.cwd()], path, wrappers)
    code = compile(tree, str(path), "exec")
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(str(path))
    sys.modules["__main__"] = module
    exec(code, module.__dict__)
    return module


class Wrappers(dict):  # type: ignore[type-arg]
    """Display name -> decorator: the functions to wrap, and how."""


class AllWrappers(Wrappers):
    """Wraps every function it is asked about, with a decorator made on first use by
    ``factory(display_name)``: the count pass, which cannot know a user's module's
    functions before the script imports it."""

    def __init__(self, factory: Callable[[str], Callable[[Any], Any]]) -> None:
        super().__init__()
        self.factory = factory

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __missing__(self, name: str) -> Callable[[Any], Any]:
        made = self[name] = self.factory(name)
        return made
