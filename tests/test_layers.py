"""The apps' imports go one way, down the layers, and no two modules import each other.

Every import in app code is read with ``ast``: at the top of a module and inside functions,
``import x`` and ``from x import y`` (relative ones resolved), so an import tucked into a
function counts as much as one at the top. The layers are written down in the README's
folder table and in DEVELOPERS.md's Layout section; this table is the one they describe.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own layer or a lower one, never a higher one.
LAYERS = (
    ("openjourney",),
    ("studio.lib",),
    ("accounts",),
    ("teams",),
    ("gallery",),
    ("jobs",),
    ("create",),
    ("studio",),
)
# A separate service: it imports only these of the project (and Django, third parties);
# nothing of the project imports it.
ENGINE = "engine"
ENGINE_MAY_IMPORT = ("openjourney", ENGINE)
# The engine server's settings build on the studio's (one database, storage, secret key and
# broker): the one engine module that names the project package (engine/settings.py).
ENGINE_ENTRY = {"engine.settings": ("studio.settings",)}
# A module for one other module only: settings read the environment through studio.env.
PRIVATE = {"studio.env": ("studio.settings",)}
PACKAGES = sorted({name.split(".")[0] for layer in LAYERS for name in layer} | {ENGINE})


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> int | None:
    """The layer's index (0 lowest); None for the engine and for anything not the project's.

    The longest prefix wins: ``studio.lib.ratelimit`` is in ``studio.lib``, not ``studio``.
    """
    best: tuple[int, int] | None = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if _within(module, package) and (best is None or len(package) > best[1]):
                best = (index, len(package))
    return best[0] if best else None


def is_views(module: str) -> bool:
    """``app.views``, ``app.sharing_views``: a module of views."""
    last = module.rsplit(".", 1)[-1]
    return last == "views" or last.endswith("_views")


def layer_name(module: str) -> str:
    index = layer_of(module)
    return ENGINE if index is None else " / ".join(LAYERS[index])


def app_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project's packages, by dotted name (``pkg/__init__.py`` is ``pkg``)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve_relative(module: str, path: Path, level: int, name: str | None) -> str:
    package = module.split(".")
    if path.name != "__init__.py":
        package.pop()  # a module's own package
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, name] if name else base)


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import anywhere in the file.

    ``from a import b`` names the module ``a.b`` when there is one, otherwise ``a``.
    """
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                source = _resolve_relative(module, path, node.level, node.module)
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                found.append((candidate if candidate in known else source, node.lineno))
    return found


def import_graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """The project's module graph: module -> {module it imports: first line}."""
    modules = app_modules(root)
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for target, line in imports_of(module, path, known):
            if target.split(".")[0] not in PACKAGES or target == module:
                continue
            edges.setdefault(target, line)
    return graph


def layer_violations(graph: dict[str, dict[str, int]]) -> list[str]:
    problems = []
    for module, edges in sorted(graph.items()):
        for target, line in sorted(edges.items()):
            where = f"{module} (line {line}) imports {target}"
            if _within(module, ENGINE):
                allowed_here = (*ENGINE_MAY_IMPORT, *ENGINE_ENTRY.get(module, ()))
                if not any(_within(target, allowed) for allowed in allowed_here):
                    problems.append(f"{where}: the engine imports only openjourney")
                continue
            if _within(target, ENGINE):
                problems.append(f"{where}: nothing of the studio imports the engine")
                continue
            for private, users in PRIVATE.items():
                if _within(target, private) and module not in users and module != private:
                    problems.append(f"{where}: {private} is for {', '.join(users)} only")
            source_layer, target_layer = layer_of(module), layer_of(target)
            if None not in (source_layer, target_layer) and target_layer > source_layer:
                problems.append(
                    f"{where}: {layer_name(module)} may not import {layer_name(target)}"
                )
            app, target_app = module.split(".")[0], target.split(".")[0]
            if is_views(module) and is_views(target) and app != target_app:
                problems.append(f"{where}: a views module imports another app's views")
    return problems


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        # Iterative, so a deep graph cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.get(start, {}))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in graph:
                    continue  # not a module of ours (a name from a package, say)
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, {})))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def describe_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    members = set(component)
    edges = [
        f"{module}:{line} -> {target}"
        for module in component
        for target, line in sorted(graph[module].items())
        if target in members
    ]
    return "; ".join(edges)


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    return import_graph()


def test_every_import_goes_down_the_layers(graph):
    problems = layer_violations(graph)
    assert not problems, "Imports against the layers:\n" + "\n".join(problems)


def test_no_modules_import_each_other(graph):
    cycles = import_cycles(graph)
    assert not cycles, "Import circles:\n" + "\n".join(describe_cycle(graph, c) for c in cycles)


def test_the_reader_sees_imports_everywhere(tmp_path):
    """The reader itself: in-function, relative and ``from pkg import module`` imports count,
    and a circle or an upward import is reported."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "teams" / "models.py").write_text("from . import services\n")
    (tmp_path / "teams" / "services.py").write_text(
        "def count():\n    from jobs.models import Job\n    from .models import Team\n"
    )
    (tmp_path / "jobs" / "models.py").write_text("import openjourney\n")
    (tmp_path / "gallery" / "views.py").write_text("from teams import views\n")
    (tmp_path / "teams" / "views.py").write_text("")
    found = import_graph(tmp_path)
    assert found["teams.models"] == {"teams.services": 1}
    assert found["teams.services"] == {"jobs.models": 2, "teams.models": 3}
    assert import_cycles(found) == [["teams.models", "teams.services"]]
    assert layer_violations(found) == [
        "gallery.views (line 1) imports teams.views: a views module imports another app's views",
        "teams.services (line 2) imports jobs.models: teams may not import jobs",
    ]


def test_the_layers_are_written_down_as_enforced():
    """The README's table and DEVELOPERS.md name the layers in this order."""
    for doc in ("README.md", "DEVELOPERS.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        order = " → ".join(f"`{layer[0]}`" for layer in LAYERS)
        assert order in text, f"{doc} does not list the layers as {order}"


def test_only_the_engines_settings_may_name_the_project():
    found = {
        "engine.settings": {"studio.settings": 10},
        "engine.views": {"studio.settings": 3},
        "engine.fetch": {"studio.lib.ratelimit": 1},
    }
    assert layer_violations(found) == [
        "engine.fetch (line 1) imports studio.lib.ratelimit: the engine imports only openjourney",
        "engine.views (line 3) imports studio.settings: the engine imports only openjourney",
    ]
