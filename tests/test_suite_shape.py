"""The suite's shape: the markers pyproject.toml declares are on the tests that need
them, so `pytest -m slow` selects the slow tests, `make test-fast` (`-m "not slow"`) runs
the rest, and `-m "not postgres"` / `-m "not shared"` never runs a test that needs what
it deselects. Checked on what pytest really collected (tests/conftest.py keeps it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Names whose call starts another process that lives for a while: the served bot, the
# console bot, a clock, concurrent importers. A test reaching one (itself, through a
# helper of its module or through a fixture of its module) is slow.
STARTERS = {"BotServer", "console_session", "Popen"}
# Modules that train every kind on the real data sets (../shared corpora).
REAL_DATA_MODULES = {"tests.real_data"}
# Fixtures and calls that read ../shared: its folder, and the demo data set, whose
# pictures are cut from ../shared's photos and whose photo model uses its MobileNet.
SHARED_FIXTURES = {"shared_dir", "demo_small_dir", "trained_demo_db", "copy_db"}
SHARED_CALLS = {"generate", "shared_dir"}


def _names(node: ast.AST) -> set[str]:
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
    return found


def _functions(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level functions and the methods of module-level classes, by name."""
    out: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    out[sub.name] = sub
    return out


def _reaching(path: Path, targets: set[str]) -> set[str]:
    """The functions of a test module that use one of `targets`, directly or through
    the module's other functions (a fixture, a `_server` helper)."""
    functions = _functions(ast.parse(path.read_text(encoding="utf-8")))
    uses = {name: _names(node) for name, node in functions.items()}
    starting = {name for name, names in uses.items() if names & targets}
    while True:
        more = {name for name, names in uses.items() if names & starting} - starting
        if not more:
            return starting
        starting |= more


def _module(nodeid: str) -> Path:
    return TESTS.parent / nodeid.split("::")[0]


def test_the_inventory_is_the_whole_suite(suite_inventory):
    files = {nodeid.split("::")[0] for nodeid in suite_inventory}
    assert {f"tests/{p.name}" for p in TESTS.glob("test_*.py")} <= files
    assert len(suite_inventory) > 300


def test_tests_that_start_a_process_are_slow(suite_inventory):
    starting = {}
    missing = []
    for nodeid, info in suite_inventory.items():
        path = _module(nodeid)
        if path not in starting:
            starting[path] = _reaching(path, STARTERS)
        reaches = {info["function"], *info["fixtures"]} & starting[path]
        if reaches and "slow" not in info["markers"]:
            missing.append(f"{nodeid} (starts a process through {sorted(reaches)})")
    assert not missing, "mark these @pytest.mark.slow:\n" + "\n".join(missing)
    assert any(starting.values())  # the rule sees the served-bot tests at all


def test_tests_that_train_on_the_real_data_sets_are_slow(suite_inventory):
    pattern = re.compile(r"^\s*from (\S+) import|^\s*import (\S+)", re.M)
    real = set()
    for path in TESTS.glob("test_*.py"):
        imported = {a or b for a, b in pattern.findall(path.read_text(encoding="utf-8"))}
        if imported & REAL_DATA_MODULES:
            real.add(f"tests/{path.name}")
    assert real
    missing = [
        nodeid
        for nodeid, info in suite_inventory.items()
        if nodeid.split("::")[0] in real and "slow" not in info["markers"]
    ]
    assert not missing, missing


def test_tests_that_read_shared_carry_the_shared_marker(suite_inventory):
    calling: dict[Path, set[str]] = {}
    missing = []
    for nodeid, info in suite_inventory.items():
        path = _module(nodeid)
        if path not in calling:
            calling[path] = _reaching(path, SHARED_CALLS)
        reads = SHARED_FIXTURES & set(info["fixtures"]) or (
            {info["function"], *info["fixtures"]} & calling[path]
        )
        if reads and "shared" not in info["markers"]:
            missing.append(f"{nodeid} (reads ../shared through {sorted(reads)})")
    assert not missing, "mark these @pytest.mark.shared:\n" + "\n".join(missing)
    assert any("shared" in info["markers"] for info in suite_inventory.values())


def test_postgres_runs_and_only_those_carry_the_postgres_marker(suite_inventory):
    wrong = []
    for nodeid, info in suite_inventory.items():
        on_pg = "pg_url" in info["fixtures"] or info["params"].get("any_db_url") == "postgres"
        if on_pg != ("postgres" in info["markers"]):
            wrong.append(nodeid)
    assert not wrong, wrong
    both = [i for i in suite_inventory.values() if "any_db_url" in i["params"]]
    assert {i["params"]["any_db_url"] for i in both} == {"sqlite", "postgres"}


def test_slow_and_fast_lanes_are_both_real(suite_inventory):
    slow = [n for n, i in suite_inventory.items() if "slow" in i["markers"]]
    fast = [n for n, i in suite_inventory.items() if "slow" not in i["markers"]]
    assert slow and len(fast) > len(slow)
    assert any(n.startswith("tests/test_bot_listeners.py") for n in fast)
    assert any(n.startswith("tests/test_bot_e2e.py") for n in slow)
    makefile = (TESTS.parent / "Makefile").read_text()
    assert re.search(r'^test-fast:.*\n\t.*pytest .*-m "not slow"', makefile, re.M)
