"""Whole generated projects held byte for byte against their golden copies.

``tests/golden/<name>/`` holds every file ``entityforge new <name> [--spec SPEC]`` writes
for the built-in example and two of ``tests/specs/`` (``tests.golden.SPECS``), so a
change to the generated output shows up in review as a diff of those files. Each test
generates its project into a temporary directory, in this process (the tasks copier runs
included), and compares the two trees: the same files, the same bytes.

Left out of both sides (``tests.golden.is_excluded``): ``.copier-answers.yml`` (copier
records absolute paths and the template's commit in it), ``.entityforge/cache/``
(machine-local, and its inputs digest covers entityforge's own code) and ``__pycache__/``.

After an intended change to the generated output, refresh the copies from the repository
root, review the diff and commit it with the change:

    python -m tests.golden [NAME ...]
    git diff tests/golden
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import golden


@pytest.mark.parametrize("name", sorted(golden.SPECS))
def test_the_generated_project_is_its_golden_copy(name: str, tmp_path: Path) -> None:
    project = golden.generate(name, tmp_path)
    expected = golden.read_tree(golden.GOLDEN_DIR / name)
    assert expected, f"no golden copy of {name}: run {golden.REFRESH_COMMAND} {name}"
    report = golden.differences(name, expected, golden.read_tree(project))
    if report:
        pytest.fail(report, pytrace=False)


def test_exclusions_leave_out_only_machine_local_files() -> None:
    assert golden.is_excluded(".copier-answers.yml")
    assert golden.is_excluded(".entityforge/cache/inputs-digest")
    assert golden.is_excluded("app/models/__pycache__/task.cpython-311.pyc")
    assert not golden.is_excluded(".entityforge/generated/app/models/task.py")
    assert not golden.is_excluded(".entityforge/entities.schema.json")
    assert not golden.is_excluded("app/alembic/versions/0001_initial.py")
    assert not golden.is_excluded("tests/.copier-answers.yml")


def test_a_difference_is_reported_with_the_files_and_a_diff() -> None:
    expected = {"a.py": b"x = 1\n", "gone.md": b"old\n", "same.txt": b"same\n"}
    actual = {"a.py": b"x = 2\n", "new.md": b"new\n", "same.txt": b"same\n"}
    report = golden.differences("demo", expected, actual)
    assert "changed:\n  a.py\n" in report
    assert "added (generated, not in the golden copy):\n  new.md\n" in report
    assert "missing (in the golden copy, not generated):\n  gone.md\n" in report
    assert f"{golden.REFRESH_COMMAND} demo" in report
    assert "--- golden/a.py\n+++ generated/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n" in report
    assert golden.differences("demo", expected, dict(expected)) == ""


def test_a_long_diff_is_cut() -> None:
    old = "".join(f"line {i}\n" for i in range(500)).encode()
    report = golden.differences("demo", {"big.txt": old}, {"big.txt": old.upper()})
    diff = report[report.index("--- golden/big.txt") :].splitlines()
    assert len(diff) == golden.DIFF_LINES + 1
    assert diff[-1].endswith("more lines of diff")
