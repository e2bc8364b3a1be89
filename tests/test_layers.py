"""The package's layers: config at the bottom, then the Pulumi program, then the offline
review (which runs the program), the Azure commands beside them on config alone, and the
command line on top. No module imports one above its layer, and no imports go round in a
cycle."""

import ast
from importlib.util import resolve_name
from pathlib import Path

from tests.support import PROJECT

PACKAGE = PROJECT / "federation"
# What each layer may import, besides itself.
BELOW = {
    "exits": set(),
    "config": {"exits"},
    "program": {"config", "exits"},
    "review": {"config", "program", "exits"},
    "operate": {"config", "exits"},
    "cli": {"config", "program", "review", "operate", "exits"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path) -> set[str]:
    """The project's modules a module imports, where it runs (not for type checking only)."""
    module = module_name(path)
    return imports_of(path.read_text(), module if path.name == "__init__.py" else module.rpartition(".")[0])


def imports_of(source: str, package: str) -> set[str]:
    """The project's modules `source` imports, relative imports resolved against `package`."""
    tree = ast.parse(source)
    checking_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checking_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module
            if base is None or not base.startswith("federation"):
                continue
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("federation")}
    return found


def test_imports_are_found_however_they_are_written() -> None:
    source = """
import federation.exits
from federation.config import naming
from . import stack
from ..cli import parser as words

def later():
    from ..review.plan import render
if TYPE_CHECKING:
    from federation.cli import main
"""
    assert imports_of(source, "federation.program") == {
        "federation.exits",
        "federation.config.naming",
        "federation.program.stack",
        "federation.cli.parser",
        "federation.review.plan",
    }


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in BELOW else "top"


def test_no_module_imports_a_layer_above_its_own() -> None:
    wrong = [
        f"{module} imports {other}"
        for module, path in MODULES.items()
        if layer(module) in BELOW
        for other in imported(path)
        if layer(other) != layer(module) and layer(other) not in BELOW[layer(module)]
    ]
    assert wrong == []


def test_imports_go_round_in_no_cycle() -> None:
    graph = {m: {o for o in imported(p) if o in MODULES and o != m} for m, p in MODULES.items()}
    # A package imports what it re-exports; its modules may import the package's siblings.
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert [c for c in cycles if not _package_and_its_module(c)] == []


def _package_and_its_module(cycle: list[str]) -> bool:
    """`federation.config` re-exports `federation.config.model`, which imports a sibling
    through the package (`from federation.config import naming`): one import, not a cycle."""
    return all(m == cycle[0] or m.startswith(cycle[0] + ".") or cycle[0].startswith(m + ".") for m in cycle)
