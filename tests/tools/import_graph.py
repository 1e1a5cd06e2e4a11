"""The import graph of the project's packages: `python -m tests.tools.import_graph [--root DIR]`.

Reads every module of `orchestration/` and `reports/` (without importing them) and follows each import that names
one of them, at module level or inside a function. Prints the graph of packages (which package imports which) and
exits 1 when the modules import each other in a cycle, when two packages do (a package and the packages inside it
aside: a subpackage may use its parent's shared modules), or when a module of `reports/` imports `orchestration/`
(the read side never depends on the side that writes the warehouse).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGES = ("orchestration", "reports")
REPO = Path(__file__).resolve().parents[2]


def module_files(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file of the packages (a package is its `__init__`)."""
    modules = {}
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that the module imports (a `from package import name` imports the submodule when
    there is one, else the package)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return {imported for imported in found if imported in modules and imported != name}


def package_of(name: str, modules: dict[str, Path]) -> str:
    return name if modules[name].name == "__init__.py" else name.rpartition(".")[0]


def _nested(package: str, other: str) -> bool:
    """Whether one of the two packages is inside the other (or they are the same)."""
    return package == other or package.startswith(other + ".") or other.startswith(package + ".")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def check(root: Path) -> tuple[list[str], list[str]]:
    """(the printed graph, the problems)."""
    modules = module_files(root)
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    packages: dict[str, set[str]] = {}
    for name, imported in graph.items():
        source = package_of(name, modules)
        packages.setdefault(source, set()).update(package_of(target, modules) for target in imported)
    lines = [
        f"{package} -> {', '.join(sorted(targets - {package})) or '(nothing)'}"
        for package, targets in sorted(packages.items())
    ]
    problems = [f"import cycle: {' <-> '.join(component)}" for component in cycles(graph)]
    between_packages = {
        package: {target for target in targets if not _nested(package, target)} for package, targets in packages.items()
    }
    problems += [f"package import cycle: {' <-> '.join(component)}" for component in cycles(between_packages)]
    problems += [
        f"{name} imports {target}: reports/ never imports orchestration/"
        for name, imported in sorted(graph.items())
        if name.split(".")[0] == "reports"
        for target in sorted(imported)
        if target.split(".")[0] == "orchestration"
    ]
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.import_graph", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    lines, problems = check(args.root)
    print("\n".join(lines))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print("no import cycle; reports/ imports nothing of orchestration/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
