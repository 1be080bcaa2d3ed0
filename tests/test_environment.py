"""environment.yml (conda) and pyproject.toml (pip) declare the same dependencies and lower bounds.

Every runtime dependency of pyproject.toml and every dependency of its ``notebooks`` and ``test``
extras must be in environment.yml with the same lower bound, and every package of environment.yml
must be declared in one of those three lists. Upper bounds and pins must match as well. A
dependency with an environment marker (``tomli; python_version < '3.11'``) is required in
environment.yml only when the marker holds for the Python version that environment.yml pins.
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

# The repository root, found without importing idlib, so this check runs even where torch cannot be imported.
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = REPOSITORY_ROOT / "pyproject.toml"
ENVIRONMENT = REPOSITORY_ROOT / "environment.yml"
CHECKED_EXTRAS = ("notebooks", "test")
# conda-forge names that differ from the PyPI name of the same package.
CONDA_TO_PIP = {"pytorch": "torch"}
# conda packages that build the environment itself rather than being dependencies of idlib.
CONDA_TOOLS = {"pip"}
LOWER_BOUND_OPERATORS = (">=", ">", "==", "~=", "===")
CONDA_CONSTRAINT = re.compile(r"(==|>=|<=|!=|~=|>|<|=)\s*([0-9][0-9A-Za-z.*+!_-]*)")
CONDA_SPEC = re.compile(r"(?:[\w.-]+::)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<constraint>.*)")
PROJECT_INSTALL = re.compile(r"(-e\s+)?\.(\[[\w,\s-]*\])?")


@dataclass
class Declared:
    """One dependency as a file declares it: its name there, its version constraints, its origin
    (file and list) and, for pip requirements, its environment marker."""

    name: str
    specifier: SpecifierSet
    origin: str
    marker: Marker | None = None

    def lower_bound(self) -> tuple[Version, str] | None:
        """Return the highest lower bound and its operator, or None when there is none."""
        bounds = [
            (Version(spec.version.removesuffix(".*")), spec.operator)
            for spec in self.specifier
            if spec.operator in LOWER_BOUND_OPERATORS
        ]
        return max(bounds) if bounds else None

    def other_constraints(self) -> set:
        """Return the constraints that are not lower bounds (upper bounds, exclusions, pins)."""
        constraints = set()
        for spec in self.specifier:
            if spec.operator in (">=", ">"):
                continue
            version = spec.version if spec.version.endswith(".*") else Version(spec.version)
            constraints.add((spec.operator, version))
        return constraints


def conda_specifier(constraint: str, spec: str) -> SpecifierSet:
    """Translate the version part of a conda match spec into a PEP 440 specifier set.

    conda reads a single ``=`` as a prefix match, so ``python=3.11`` means any 3.11.x. The other
    operators mean what they mean in PEP 440. Every part needs an operator, because a
    space-separated field after the name may be a build string.
    """
    if not constraint:
        return SpecifierSet()
    parts = []
    for part in constraint.split(","):
        match = CONDA_CONSTRAINT.fullmatch(part.strip())
        if match is None:
            raise ValueError(
                f"environment.yml: unsupported conda match spec {spec!r} (build strings, '|' "
                "alternatives and versions without an operator are not supported); write it as name>=version"
            )
        operator, version = match.groups()
        if operator == "=":
            operator, version = "==", version if version.endswith("*") else f"{version}.*"
        parts.append(f"{operator}{version}")
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier as error:
        raise ValueError(f"environment.yml: invalid version constraint in {spec!r}: {error}") from error


def read_pyproject(path: Path) -> tuple[dict[str, Declared], SpecifierSet | None, list[str]]:
    """Return the checked dependencies of pyproject.toml by canonical name, requires-python, and problems.

    Dependencies keep their environment marker, which ``dependency_problems`` evaluates for the
    Python version of environment.yml.
    """
    with open(path, "rb") as stream:
        project = tomllib.load(stream).get("project", {})
    extras = project.get("optional-dependencies", {})
    problems = [
        f"pyproject.toml has no [project.optional-dependencies] {extra}; the conda environment mirrors it"
        for extra in CHECKED_EXTRAS
        if extra not in extras
    ]
    groups = [("dependencies", project.get("dependencies", []))]
    groups += [(f"extra {extra}", extras.get(extra, [])) for extra in CHECKED_EXTRAS]
    declared = {}
    for origin, lines in groups:
        for line in lines:
            try:
                requirement = Requirement(line)
            except InvalidRequirement as error:
                problems.append(f"pyproject.toml ({origin}): invalid requirement {line!r}: {error}")
                continue
            key = canonicalize_name(requirement.name)
            if key == canonicalize_name(project.get("name", "")):
                continue
            entry = Declared(requirement.name, requirement.specifier, f"pyproject.toml ({origin})", requirement.marker)
            if key in declared and declared[key].specifier != entry.specifier:
                problems.append(
                    f"{requirement.name} is declared twice in pyproject.toml with different constraints: "
                    f"{declared[key].specifier} in {declared[key].origin}, {entry.specifier} in {origin}"
                )
            declared.setdefault(key, entry)
    requires_python = project.get("requires-python")
    return declared, SpecifierSet(requires_python) if requires_python else None, problems


def read_environment(path: Path) -> tuple[dict[str, Declared], SpecifierSet | None, list[str]]:
    """Return the packages of environment.yml by canonical PyPI name, its python constraint, and problems."""
    with open(path, encoding="utf-8") as stream:
        environment = yaml.safe_load(stream) or {}
    declared, python, problems = {}, None, []
    installs_project = False
    for item in environment.get("dependencies") or []:
        if isinstance(item, dict) and set(item) == {"pip"}:
            for line in item["pip"] or []:
                if PROJECT_INSTALL.fullmatch(line.strip()):
                    installs_project = True
                    continue
                try:
                    requirement = Requirement(line)
                except InvalidRequirement as error:
                    problems.append(f"environment.yml (pip section): invalid requirement {line!r}: {error}")
                    continue
                entry = Declared(requirement.name, requirement.specifier, "environment.yml (pip section)")
                declared[canonicalize_name(requirement.name)] = entry
            continue
        if not isinstance(item, str):
            problems.append(f"environment.yml: unexpected dependency entry {item!r}; use a conda spec or a pip: list")
            continue
        match = CONDA_SPEC.fullmatch(item.strip())
        if match is None:
            problems.append(f"environment.yml: invalid conda spec {item!r}")
            continue
        name, constraint = match.group("name"), match.group("constraint").strip()
        specifier = conda_specifier(constraint, item)
        key = canonicalize_name(name)
        if key == "python":
            python = specifier
        elif key not in CONDA_TOOLS:
            pip_key = canonicalize_name(CONDA_TO_PIP.get(key, key))
            declared[pip_key] = Declared(name, specifier, "environment.yml")
    if not installs_project:
        problems.append("environment.yml does not install the project itself; add `- pip: [-e .]`")
    if python is None:
        problems.append("environment.yml does not pin python; add e.g. `- python=3.11`")
    return declared, python, problems


def describe(key: str, pip_entry: Declared | None, conda_entry: Declared | None) -> str:
    """Name a dependency for a message, with its conda name where that differs."""
    pip_name = pip_entry.name if pip_entry else key
    if conda_entry and canonicalize_name(conda_entry.name) != key:
        return f"{pip_name} ({conda_entry.name} in environment.yml)"
    return pip_name


def format_bound(bound: tuple[Version, str] | None) -> str:
    return "none" if bound is None else f"{bound[1]}{bound[0]}"


def compare_entries(key: str, pip_entry: Declared, conda_entry: Declared) -> list[str]:
    """Return the mismatches between one dependency's pyproject.toml and environment.yml entries."""
    name = describe(key, pip_entry, conda_entry)
    problems = []
    for entry in (pip_entry, conda_entry):
        if entry.lower_bound() is None:
            problems.append(
                f"{name} has no lower bound in {entry.origin}; give it the oldest version the project supports"
            )
    if problems:
        return problems
    if pip_entry.lower_bound() != conda_entry.lower_bound():
        problems.append(
            f"{name}: lower bound {format_bound(pip_entry.lower_bound())} in {pip_entry.origin} but "
            f"{format_bound(conda_entry.lower_bound())} in {conda_entry.origin}; use the same lower bound in both files"
        )
    elif pip_entry.other_constraints() != conda_entry.other_constraints():
        problems.append(
            f"{name}: constraints {pip_entry.specifier} in {pip_entry.origin} but {conda_entry.specifier} in "
            f"{conda_entry.origin}; use the same upper bounds and pins in both files"
        )
    return problems


def dependency_problems(pyproject_path: Path, environment_path: Path) -> list[str]:
    """Compare the dependency lists of the two files and return one message per disagreement."""
    pip_entries, requires_python, problems = read_pyproject(pyproject_path)
    conda_entries, python, environment_problems = read_environment(environment_path)
    problems += environment_problems

    marker_environment = default_environment()
    if python is not None:
        conda_python = Declared("python", python, "environment.yml").lower_bound()
        if conda_python is None:
            problems.append(f"environment.yml: python {python} has no lower bound; pin it as python=3.X")
        else:
            version = conda_python[0]
            marker_environment.update(
                python_version=f"{version.major}.{version.minor}", python_full_version=str(version)
            )
            if requires_python is not None and not requires_python.contains(version):
                problems.append(
                    f"environment.yml pins python {python}, outside requires-python {requires_python} "
                    "of pyproject.toml; pin a Python version the project supports"
                )

    for key, pip_entry in pip_entries.items():
        conda_entry = conda_entries.get(key)
        if conda_entry is None:
            if pip_entry.marker is None or pip_entry.marker.evaluate(marker_environment):
                problems.append(
                    f"{pip_entry.name}{pip_entry.specifier} from {pip_entry.origin} is missing from environment.yml; "
                    "add it there (under its conda-forge name)"
                )
            continue
        problems += compare_entries(key, pip_entry, conda_entry)

    for key, conda_entry in conda_entries.items():
        if key not in pip_entries:
            problems.append(
                f"{conda_entry.name} in {conda_entry.origin} is not declared in pyproject.toml; add it to the "
                f"dependencies or to one of the extras {', '.join(CHECKED_EXTRAS)}, or remove it"
            )
    return problems


def write_modified(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """Copy ``source`` into ``tmp_path`` with ``old`` replaced by ``new`` (which must occur once)."""
    text = source.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {source.name} for this test"
    target = tmp_path / source.name
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_dependency_lists_agree():
    problems = dependency_problems(PYPROJECT, ENVIRONMENT)
    assert problems == [], "environment.yml and pyproject.toml disagree:\n" + "\n".join(problems)


def test_missing_conda_package_detected(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "  - scipy>=1.11\n", "")
    problems = dependency_problems(PYPROJECT, environment)
    assert problems == ["scipy>=1.11 from pyproject.toml (dependencies) is missing from environment.yml; "
                        "add it there (under its conda-forge name)"]


def test_different_lower_bound_detected(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "numpy>=1.24", "numpy>=1.26")
    problems = dependency_problems(PYPROJECT, environment)
    assert len(problems) == 1
    assert problems[0].startswith("numpy: lower bound >=1.24 in pyproject.toml (dependencies) but >=1.26 in environment.yml")


def test_renamed_package_compared_by_pip_name(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "pytorch>=2.1", "pytorch>=2.2")
    problems = dependency_problems(PYPROJECT, environment)
    assert len(problems) == 1
    assert problems[0].startswith("torch (pytorch in environment.yml): lower bound >=2.1")


def test_equal_versions_in_other_spelling_accepted(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "pytorch>=2.1", "pytorch >=2.1.0")
    assert dependency_problems(PYPROJECT, environment) == []


def test_undeclared_conda_package_detected(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "  - pyyaml>=6.0\n", "  - pyyaml>=6.0\n  - pandas>=2.0\n")
    problems = dependency_problems(PYPROJECT, environment)
    assert len(problems) == 1
    assert problems[0].startswith("pandas in environment.yml is not declared in pyproject.toml")


def test_new_extra_dependency_detected(tmp_path):
    pyproject = write_modified(tmp_path, PYPROJECT, '    "pyyaml>=6.0",\n', '    "pyyaml>=6.0",\n    "coverage>=7.0",\n')
    problems = dependency_problems(pyproject, ENVIRONMENT)
    assert problems == ["coverage>=7.0 from pyproject.toml (extra test) is missing from environment.yml; "
                        "add it there (under its conda-forge name)"]


def test_missing_lower_bound_detected(tmp_path):
    pyproject = write_modified(tmp_path, PYPROJECT, '"tqdm>=4.60"', '"tqdm"')
    problems = dependency_problems(pyproject, ENVIRONMENT)
    assert problems == ["tqdm has no lower bound in pyproject.toml (dependencies); give it the oldest version the project supports"]


def test_different_upper_bound_detected(tmp_path):
    pyproject = write_modified(tmp_path, PYPROJECT, '"numpy>=1.24"', '"numpy>=1.24,<3"')
    problems = dependency_problems(pyproject, ENVIRONMENT)
    assert len(problems) == 1
    assert "use the same upper bounds and pins in both files" in problems[0]


def test_marker_follows_pinned_python(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "python=3.11", "python=3.10")
    problems = dependency_problems(PYPROJECT, environment)
    assert problems == ["tomli>=2.0 from pyproject.toml (extra test) is missing from environment.yml; "
                        "add it there (under its conda-forge name)"]


def test_python_outside_requires_python_detected(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "python=3.11", "python=3.9")
    problems = dependency_problems(PYPROJECT, environment)
    assert any("outside requires-python >=3.10" in problem for problem in problems), problems


def test_project_install_required(tmp_path):
    environment = write_modified(tmp_path, ENVIRONMENT, "      - -e .\n", "      - nbval>=0.10\n")
    problems = dependency_problems(PYPROJECT, environment)
    assert "environment.yml does not install the project itself; add `- pip: [-e .]`" in problems


def test_missing_extra_detected(tmp_path):
    pyproject = write_modified(tmp_path, PYPROJECT, "notebooks = [", "docs = [")
    problems = dependency_problems(pyproject, ENVIRONMENT)
    assert problems[0] == "pyproject.toml has no [project.optional-dependencies] notebooks; the conda environment mirrors it"


@pytest.mark.parametrize(
    "constraint, expected",
    [("", ""), (">=1.24", ">=1.24"), ("=3.11", "==3.11.*"), ("=3.11.*", "==3.11.*"), ("==2.0", "==2.0"), (">=1.0,<2", "<2,>=1.0")],
)
def test_conda_constraint_translation(constraint, expected):
    assert conda_specifier(constraint, f"pkg{constraint}") == SpecifierSet(expected)


@pytest.mark.parametrize("spec, constraint", [("numpy=1.24=py311", "=1.24=py311"), ("numpy 1.24", "1.24"), ("numpy 1.24|1.26", "1.24|1.26")])
def test_unsupported_conda_spec_rejected(spec, constraint):
    with pytest.raises(ValueError, match=re.escape(f"unsupported conda match spec {spec!r}")):
        conda_specifier(constraint, spec)
