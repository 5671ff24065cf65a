"""The layout's one rule, read from the source: imports flow one way and never in a circle.

    bot/ (the domain, storage included)  <-  messages/  <-  scheduler/  <-  handlers/  <-  bot/app/

Each layer imports only the layers to its left. `bot/app/context.py` (the typed context every
callback receives) is the one module of `bot/app/` that jobs and handlers import, so it imports
nothing but the domain. Every import counts: at module level, inside functions and under
TYPE_CHECKING, because each says which way the code depends.

Tests and benchmarks share fakes and builders through `tests/support/` only: a test never
imports `bench/` nor another test module, and `bench/` takes nothing else from `tests/`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "messages", "scheduler")
CONTEXT = "bot.app.context"
# What each layer may import, by layer name (see `layer`).
ALLOWED = {
    "domain": {"domain"},
    "context": {"domain"},
    "messages": {"domain", "messages"},
    "scheduler": {"domain", "context", "messages", "scheduler"},
    "handlers": {"domain", "context", "messages", "scheduler", "handlers"},
    "app": {"domain", "context", "messages", "scheduler", "handlers", "app"},
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    """Every module of our packages under `root`, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imported(path: Path, name: str, known: set[str]) -> Iterator[str]:
    """The modules of ours that `path` (module `name`) imports, each once."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    seen = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            # `from bot import daily` imports the module bot.daily; `from bot.x import f`, bot.x.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target in known and target != name and target not in seen:
                seen.add(target)
                yield target


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports."""
    found = modules(root)
    known = set(found)
    return {name: set(imported(path, name, known)) for name, path in found.items()}


def parents(name: str) -> list[str]:
    """The packages Python runs before `name` itself: importing bot.app.context runs bot.app."""
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def layer(name: str) -> str:
    if name == CONTEXT:
        return "context"
    if name == "bot.__main__" or name == "bot.app" or name.startswith("bot.app."):
        return "app"
    top = name.split(".")[0]
    return "domain" if top == "bot" else top


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, targets in graph.items()
        for target in targets
        if layer(target) not in ALLOWED[layer(name)]
    )


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import circle once (Tarjan's strongly connected components of two or more modules,
    or one importing itself). Importing a module runs its parent packages first, so those count,
except the importer's own packages: they are already running."""
    edges = {}
    for name, targets in graph.items():
        running = {name, *parents(name)}
        edges[name] = targets | {p for t in targets for p in parents(t) if p not in running}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in edges[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == name:
                    break
            if len(component) > 1 or name in edges[name]:
                found.append(sorted(component))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_the_reader_sees_the_real_imports(graph):
    assert "handlers" in graph["bot.app.build"]
    assert CONTEXT in graph["handlers.common"]
    assert "bot.daily" in graph["handlers.schedule"]  # `from bot import daily`
    assert CONTEXT in graph["scheduler.daily"]


def test_no_module_imports_a_layer_above_its_own(graph):
    assert upward_imports(graph) == []


def test_there_is_no_import_circle(graph):
    assert circles(graph) == []


def test_each_catalog_area_is_rendered_by_the_module_beside_it():
    """`messages/locales/*/<area>.toml` and `messages/<area>.py` come in pairs."""
    areas = {path.stem for path in (ROOT / "messages" / "locales" / "en").glob("*.toml")}
    modules = {path.stem for path in (ROOT / "messages").glob("*.py")}
    assert sorted(areas - modules) == []


def test_the_front_door_package_imports_nothing_itself(graph):
    """Handlers import bot.app.context, which runs bot/app/__init__.py first: if that imported
    the Application, every handler would import itself through it."""
    assert graph["bot.app"] == set()


def absolute_imports(path: Path) -> set[str]:
    """Every module name `path` imports absolutely (with `from a import b`: a and a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def borrowed(folder: str, root: Path = ROOT) -> list[str]:
    """What modules under `folder` import from tests/ and bench/ other than tests.support."""
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        for name in sorted(absolute_imports(path)):
            top = name.split(".")[0]
            shared = name.split(".")[:2] == ["tests", "support"]
            if top in ("tests", "bench") and not shared and not top == folder == "bench":
                found.append(f"{path.relative_to(root)} imports {name}")
    return found


def test_tests_and_benchmarks_share_only_the_support_package():
    assert borrowed("tests") == []
    assert borrowed("bench") == []


def test_a_test_importing_bench_or_another_test_is_caught(tmp_path):
    (tmp_path / "tests" / "bot").mkdir(parents=True)
    (tmp_path / "bench").mkdir()
    (tmp_path / "tests" / "bot" / "test_x.py").write_text(
        "from bench import crash_suite\nfrom tests.handlers.test_y import helper\n"
        "from tests.support.harness import running_bot\n"
    )
    (tmp_path / "bench" / "run.py").write_text("from tests.support import fakes\nimport bench.x\n")
    assert borrowed("tests", tmp_path) == [
        "tests/bot/test_x.py imports bench",
        "tests/bot/test_x.py imports bench.crash_suite",
        "tests/bot/test_x.py imports tests.handlers.test_y",
        "tests/bot/test_x.py imports tests.handlers.test_y.helper",
    ]
    assert borrowed("bench", tmp_path) == []


def write(root: Path, files: dict[str, str]) -> None:
    for package in PACKAGES:
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").touch()
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_an_upward_import_and_a_circle_are_caught(tmp_path):
    write(
        tmp_path,
        {
            "bot/app/__init__.py": "",
            "bot/app/context.py": "from bot import stats\n",
            "bot/stats.py": "def figures():\n    from messages import stats\n",
            "messages/stats.py": "from bot.stats import figures\n",
            "handlers/stats.py": "from bot.app.context import Context\nimport scheduler.jobs\n",
            "scheduler/jobs.py": "from handlers import stats\n",
        },
    )
    graph = import_graph(tmp_path)
    assert upward_imports(graph) == [
        "bot.stats imports messages.stats",
        "scheduler.jobs imports handlers.stats",
    ]
    assert circles(graph) == [
        ["bot.stats", "messages.stats"],
        ["handlers.stats", "scheduler.jobs"],
    ]


def test_a_circle_through_a_package_that_imports_too_much_is_caught(tmp_path):
    write(
        tmp_path,
        {
            "bot/app/__init__.py": "from bot.app.build import build\n",
            "bot/app/build.py": "import handlers\n",
            "bot/app/context.py": "",
            "handlers/__init__.py": "from bot.app.context import Context\n",
        },
    )
    assert circles(import_graph(tmp_path)) == [["bot.app", "bot.app.build", "handlers"]]
