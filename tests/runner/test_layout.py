"""The runner's import graph: no circle, and the data path read top to bottom.

Every import of every module counts, also those inside functions (a lazy import still runs back up).
Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too, so those count as well, except a
module's own enclosing packages (Python is already running them when it gets there).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: the rooms of runner/, in the order of the data path (TOML -> spec -> build/train -> results);
#: a module may import its own room and the rooms before it, never one after it
LAYERS = {"registry": 0, "data": 1, "spec": 2, "train": 3, "results": 4, "measure": 4, "sweep": 5, "cli": 6}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` imports anywhere in its text, with their packages."""
    here = name.split(".") if is_package(path) else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)  # `from . import x`
    closed = set()
    for target in targets:
        parts = target.split(".")
        closed.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {t for t in closed & known if t != name and t not in ancestors}


def graph(package: str) -> dict[str, set[str]]:
    mods = modules(package)
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_runner_has_no_import_circle():
    cycle = find_cycle(graph("mininet/runner"))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def room(module: str) -> str | None:
    parts = module.split(".")  # mininet.runner.<room>....
    return parts[2] if len(parts) > 2 else None


def test_every_module_of_runner_lives_in_a_room():
    loose = [m for m in modules("mininet/runner") if room(m) not in LAYERS and m not in ("mininet.runner", "mininet.runner.__main__")]
    assert not loose, f"modules outside the rooms {sorted(LAYERS)}: {loose}"


def test_no_import_runs_back_up_the_data_path():
    upward = []
    for module, targets in graph("mininet/runner").items():
        if room(module) not in LAYERS:
            continue
        for target in targets:
            if room(target) in LAYERS and room(target) != room(module) and LAYERS[room(target)] >= LAYERS[room(module)]:
                upward.append(f"{module} imports {target}")
    assert not upward, "\n".join(sorted(upward))


def test_the_library_stands_on_its_own():
    """mininet's modules never import the runner (only ``python -m mininet`` starts it)."""
    library = {name: path for name, path in modules("mininet").items()
               if not name.startswith("mininet.runner") and name != "mininet.__main__"}
    reaching_out = [f"{name} imports {t}" for name, path in library.items()
                    for t in imports(name, path, set(modules("mininet"))) if t.startswith("mininet.runner")]
    assert library and not reaching_out, reaching_out
