"""Property tests: random valid specs and random edit sequences, on real PostgreSQL.

Every drawn spec generates a project whose first revision upgrades a fresh database;
at head ``alembic check`` finds no drift and the guarantees hold; a downgrade to base
leaves nothing and an upgrade gives the same schema. Every drawn edit sequence adds a
revision per edit, each upgrading from the previous state (``--allow-destructive``),
with the same checks after each step, renames keeping the renamed object.

The number of examples comes from the hypothesis profile: a few fixed ones by default
(the same draws on every run, so that a red run is a change's doing, never the dice's),
``ENTITYFORGE_HYPOTHESIS_PROFILE=long`` for many random ones (profiles in
``tests/conftest.py``).
A failing example is kept under ``tests/regressions/`` and replayed by
``test_regression_replays`` on every run. (The loader's own fuzzing of arbitrary text
is in ``tests/test_spec_errors.py``.)
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.property_checks import REGRESSIONS, check_states, load_regression, save_regression
from tests.strategies import edit_sequences, spec_text, specs

# Registered in tests/conftest.py.
PROFILE = settings.get_profile(os.environ.get("ENTITYFORGE_HYPOTHESIS_PROFILE", "entityforge"))
LONG = os.environ.get("ENTITYFORGE_HYPOTHESIS_PROFILE") == "long"
# Package names of several lengths: the generated code must be clean with any of them.
PACKAGES = st.sampled_from(["app", "p", "billing_service_core_application"])
TRIED = {"specs": 0, "edit sequences": 0, "edits": 0}


Kept = list[tuple[str, list[str], list[str], str]]


def _run_and_keep_failures(
    states: list[str],
    steps: list[str],
    package: str,
    create_database: Callable[[], str],
    kept: Kept,
) -> None:
    try:
        check_states(states, steps, create_database, package)
    except Exception as error:
        kept.append((package, states, steps, "".join(traceback.format_exception_only(error))))
        raise


def _persist_last(kind: str, kept: Kept) -> None:
    """Hypothesis replays the shrunk example last: that is the one worth keeping."""
    if kept:
        package, states, steps, error = kept[-1]
        save_regression(kind, package, states, steps, error)


def test_random_specs_migrate_cleanly(create_database: Callable[[], str]) -> None:
    kept: Kept = []

    @settings(PROFILE, derandomize=not LONG)
    @given(doc=specs(), package=PACKAGES)
    def check(doc: dict, package: str) -> None:
        TRIED["specs"] += 1
        _run_and_keep_failures([spec_text(doc)], [], package, create_database, kept)

    try:
        check()
    finally:
        _persist_last("spec", kept)
        print(f"\nproperties: {TRIED['specs']} random specs tried")


def test_random_edit_sequences_upgrade_from_each_state(
    create_database: Callable[[], str],
) -> None:
    kept: Kept = []

    @settings(PROFILE, max_examples=max(1, PROFILE.max_examples * 3 // 4), derandomize=not LONG)
    @given(sequence=edit_sequences(), package=PACKAGES)
    def check(sequence: tuple[list[dict], list[str]], package: str) -> None:
        docs, steps = sequence
        TRIED["edit sequences"] += 1
        TRIED["edits"] += len(steps)
        states = [spec_text(doc) for doc in docs]
        _run_and_keep_failures(states, steps, package, create_database, kept)

    try:
        check()
    finally:
        _persist_last("edits", kept)
        print(
            f"\nproperties: {TRIED['edit sequences']} edit sequences "
            f"({TRIED['edits']} edits) tried"
        )


@pytest.mark.parametrize(
    "path", sorted(REGRESSIONS.glob("*.yaml")), ids=lambda path: Path(path).stem
)
def test_regression_replays(path: Path, create_database: Callable[[], str]) -> None:
    case = load_regression(path)
    check_states(case["states"], case["steps"], create_database, case["package"])


def test_random_checks_give_factories_a_row_for_every_table() -> None:
    """Random realistic checks: each accepted spec's factories and check tests generate."""
    from entityforge.generators import GenerationContext, fixtures
    from entityforge.generators import tests as tests_generator
    from entityforge.spec import load_schema_text
    from tests.check_strategies import specs_with_checks

    @PROFILE
    @given(doc=specs_with_checks())
    def check(doc: dict) -> None:
        context = GenerationContext(load_schema_text(spec_text(doc)))
        assert fixtures.generate(context)["tests/factories.py"]
        assert tests_generator.generate(context)

    check()


def test_random_checks_give_green_generated_suites(tmp_path_factory, server_url: str) -> None:
    """Each example runs a whole generated suite: two fixed ones by default, the long
    profile's many random ones."""
    from tests.check_strategies import specs_with_checks
    from tests.projects import new_project
    from tests.test_generated_tests import outcome_counts, run_project_tests

    # By default two fixed draws (a suite is a minute each), the same on every run so
    # that main stays green; the long profile explores.
    @settings(PROFILE, max_examples=PROFILE.max_examples if LONG else 2, derandomize=not LONG)
    @given(doc=specs_with_checks())
    def check(doc: dict) -> None:
        base = tmp_path_factory.mktemp("checks")
        spec = base / "entities.yaml"
        spec.write_text(spec_text(doc))
        output = run_project_tests(new_project(base, spec), server_url)
        counts = outcome_counts(output)
        assert set(counts) == {"passed"}, output[-6000:]

    check()
