"""The package's import rules, checked over the source of every module (ast; nothing is imported to check them).

`models/` is SQL plus its registry and `engines/` runs it: neither imports the other, only the engine protocol,
which imports nothing of the project at run time. The command line is a layer on top: no library module imports it.
Readers (read, api, dashboard, status) never import the writing side; sources and staging nothing downstream of them.
docs/ARCHITECTURE.md describes each package with these rules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).parent.parent / "src"


@dataclass(frozen=True)
class Rule:
    """Modules named `importer` (or below it) must not import `imported` (or below it), except `allowed` ones."""

    importer: str
    imported: str
    why: str
    allowed: tuple[str, ...] = ()
    runtime_only: bool = False  # imports for type checkers only (`if TYPE_CHECKING:`) do not count


def forbid(importers: tuple[str, ...], imported: tuple[str, ...], why: str) -> tuple[Rule, ...]:
    """One rule per (importer, imported) package of the project."""
    return tuple(Rule(f"cryptopulse.{a}", f"cryptopulse.{b}", why) for a in importers for b in imported)


# The writing side of the pipeline, from the staged zone to the published version.
WRITERS = ("staging", "engines", "models", "quality", "pipeline", "analysis", "orchestration", "sql_render")
RULES = (
    Rule("cryptopulse.models", "cryptopulse.engines", "models are SQL + registry; engines run them (use cryptopulse.engine_protocol)"),
    Rule("cryptopulse.engines", "cryptopulse.models", "engines run SQL they are given; they do not know the models"),
    Rule("cryptopulse.engine_protocol", "cryptopulse", "the protocol both sides import imports nothing of the project",
         runtime_only=True),
    Rule("cryptopulse", "cryptopulse.cli", "the command line is the top layer: library modules never import it",
         allowed=("cryptopulse.cli",)),
    *forbid(("read", "api", "dashboard", "status"), WRITERS,
            "readers see only the published version, through cryptopulse.read.open_snapshot, never the warehouse"),
    *forbid(("sources",), (*WRITERS, "read"), "sources fill the raw zone and know nothing downstream of it"),
    *forbid(("staging",), WRITERS[1:], "staging turns raw into staged with its own DuckDB; it knows no warehouse"),
)


def module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.Module, runtime_only: bool) -> list[tuple[int, str]]:
    """(line, module) for every import in `tree`, in functions too; with `runtime_only`, not under `if TYPE_CHECKING:`."""
    skipped = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(src: Path = SRC) -> list[str]:
    """Every forbidden import in the package under `src`, as `file:line: module imports name (rule)`."""
    found = []
    for path in sorted((src / "cryptopulse").rglob("*.py")):
        importer, tree = module_name(path, src), ast.parse(path.read_text(encoding="utf-8"))
        for rule in RULES:
            if not under(importer, rule.importer) or importer in rule.allowed:
                continue
            for line, name in imports(tree, rule.runtime_only):
                if under(name, rule.imported) and not (rule.imported == "cryptopulse" and name == "cryptopulse"):
                    found.append(f"{path.relative_to(src)}:{line}: {importer} imports {name} ({rule.why})")
    return sorted(set(found))


def test_no_module_breaks_an_import_rule():
    assert violations() == []


def test_the_rules_see_a_forbidden_import(tmp_path):
    package = tmp_path / "src" / "cryptopulse"
    for folder in ("models", "engines"):
        (package / folder).mkdir(parents=True)
    (package / "models" / "build.py").write_text("def f():\n    from cryptopulse.engines.duckdb import attach_sql\n")
    (package / "engines" / "duckdb.py").write_text("from cryptopulse.models import registry\n")
    protocol = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cryptopulse.lake import Lake\n"
    protocol += "from cryptopulse.config import Settings\n"
    (package / "engine_protocol.py").write_text(protocol)  # the type checkers' import is allowed, the other one not
    (package / "status.py").write_text("import cryptopulse.cli\n")
    (package / "read").mkdir()
    (package / "read" / "queries.py").write_text("from cryptopulse.engines import open_engine\n")
    assert [f.split(" (")[0] for f in violations(tmp_path / "src")] == [
        "cryptopulse/engine_protocol.py:4: cryptopulse.engine_protocol imports cryptopulse.config",
        "cryptopulse/engine_protocol.py:4: cryptopulse.engine_protocol imports cryptopulse.config.Settings",
        "cryptopulse/engines/duckdb.py:1: cryptopulse.engines.duckdb imports cryptopulse.models",
        "cryptopulse/engines/duckdb.py:1: cryptopulse.engines.duckdb imports cryptopulse.models.registry",
        "cryptopulse/models/build.py:2: cryptopulse.models.build imports cryptopulse.engines.duckdb",
        "cryptopulse/models/build.py:2: cryptopulse.models.build imports cryptopulse.engines.duckdb.attach_sql",
        "cryptopulse/read/queries.py:1: cryptopulse.read.queries imports cryptopulse.engines",
        "cryptopulse/read/queries.py:1: cryptopulse.read.queries imports cryptopulse.engines.open_engine",
        "cryptopulse/status.py:1: cryptopulse.status imports cryptopulse.cli",
    ]
