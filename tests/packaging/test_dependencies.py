"""pyproject.toml declares what the package imports, and only what every user runs.

The imports are read from the source (every ``import`` in ``syncer/`` and ``connectors/``) and
mapped to distributions with the installed metadata, so a new direct import of an undeclared
package (urllib3 was one) fails here instead of working by luck of a transitive dependency.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib

from syncer.core.extras import EXTRAS
from tests.packaging.support import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
# Imported directly but rightly not declared: pydantic pins the exact pydantic-core it was
# built with, so a second requirement could only disagree with it.
PART_OF = {"pydantic-core": "pydantic"}
OUR_PACKAGES = {"syncer", "connectors"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return normalise(match.group(0))


def declared(requirements: list[str]) -> set[str]:
    return {requirement_name(r) for r in requirements}


@functools.cache
def imported_modules() -> dict[str, set[str]]:
    """Top-level third-party module -> the source files that import it."""
    found: dict[str, set[str]] = {}
    for package in sorted(OUR_PACKAGES):
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OUR_PACKAGES:
                        found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


@functools.cache
def distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> str:
    (name,) = {normalise(d) for d in distributions()[module]}
    return name


class TestDeclaredDependencies:
    """Every import is declared, in the install dependencies or in the extra that needs it."""

    def test_every_imported_package_is_declared(self) -> None:
        """A module's distribution is a dependency, an extra's requirement, or part of one."""
        everything = declared(PROJECT["dependencies"]) | {
            requirement_name(r)
            for name, requirements in PROJECT["optional-dependencies"].items()
            if name != "dev"
            for r in requirements
        }
        undeclared = {
            module: sorted(files)
            for module, files in imported_modules().items()
            if distribution_of(module) not in everything
            and PART_OF.get(distribution_of(module)) not in everything
        }
        assert undeclared == {}

    def test_urllib3_is_declared_because_the_connectors_import_it(self) -> None:
        """The GitHub retry policy and the Jira upload import urllib3 themselves."""
        assert "urllib3" in declared(PROJECT["dependencies"])
        assert imported_modules()["urllib3"] == {
            "connectors/github/session.py",
            "connectors/github/transport.py",
            "connectors/jira/adapter.py",
        }

    def test_pyjwt_stays_because_pygithub_requires_it_anyway(self) -> None:
        """Only the emulator imports jwt, but PyGithub's own metadata requires pyjwt[crypto]."""
        assert imported_modules()["jwt"] == {"connectors/emulators/github_server.py"}
        pygithub = importlib.metadata.requires("PyGithub") or []
        assert any(requirement_name(r) == "pyjwt" and "crypto" in r for r in pygithub)
        assert "pyjwt" in declared(PROJECT["dependencies"])


class TestExtras:
    """matplotlib and psycopg are extras, named alike in pyproject.toml and core/extras.py."""

    def test_matplotlib_and_psycopg_are_not_installed_for_everybody(self) -> None:
        """A plain install brings neither."""
        assert {"matplotlib", "psycopg", "numpy", "pillow"}.isdisjoint(
            declared(PROJECT["dependencies"])
        )

    def test_each_extra_in_the_code_is_an_extra_in_pyproject_that_provides_its_module(
        self,
    ) -> None:
        """syncer.core.extras names the extra and the module; the extra installs that module."""
        optional = PROJECT["optional-dependencies"]
        for extra in EXTRAS:
            assert distribution_of(extra.module) in declared(optional[extra.name])
        assert set(optional) == {e.name for e in EXTRAS} | {"dev"}

    def test_the_dev_extra_pulls_in_every_extra_the_tests_need(self) -> None:
        """make test installs .[dev]: the chart and PostgreSQL tests then run, not skip."""
        (self_reference,) = [
            r for r in PROJECT["optional-dependencies"]["dev"] if r.startswith(PROJECT["name"])
        ]
        assert self_reference == f"{PROJECT['name']}[charts,postgres]"

    def test_the_demo_installs_the_chart_extra(self) -> None:
        """make demo publishes the Jira review with its chart, so it installs .[charts]."""
        makefile = (REPO / "Makefile").read_text(encoding="utf-8")
        assert "$(call install,charts)" in makefile
        assert "demo: $(DEMO_STAMP)" in makefile
