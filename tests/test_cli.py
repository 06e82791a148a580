"""The command line's promises: exit codes, located messages, no tracebacks, no stray writes.

Every test runs ``python -m entityforge`` (or ``copier``) in a subprocess, as a user would:
a malformed spec exits 2 naming ``entities.yaml:LINE:COL`` and leaves every file as it
was; ``new`` refuses a non-empty directory and leaves nothing behind on a bad spec;
``add-entity`` validates exactly like ``generate``; ``copier update`` brings a newer
template into a project made from an older one.
"""

from __future__ import annotations

import re
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.projects import REPO_ROOT, Completed, new_project, run

SPEC = """\
# A small team tracker: a tenant, members, notes.
version: 1

tenancy:
  entity: Team

entities:
  Team:
    fields:
      name: string(100)

  Member:
    soft_delete: true
    fields:
      email: {type: string, max_length: 320, unique: true}
      role: {type: enum, values: [admin, editor], default: editor}

  Note:
    fields:
      title: string(200)
      body: {type: text, nullable: true}
      score: {type: integer, default: 0, check: "score >= 0"}
    relations:
      author: {kind: many_to_one, target: Member, on_delete: cascade}
"""

# Each malformed spec: (the edit that breaks SPEC, text on the line the error must name).
MALFORMED = {
    "unclosed flow mapping": (
        ("      body: {type: text, nullable: true}", "      body: {type: text, nullable: true"),
        None,
    ),
    "tab indentation": (("  Note:\n", "\tNote:\n"), "\tNote:"),
    "unknown key": (("    soft_delete: true", "    soft_delet: true"), "soft_delet"),
    "unknown type": (("body: {type: text,", "body: {type: txt,"), "type: txt"),
    "unknown relation target": (("target: Member,", "target: Person,"), "target: Person"),
    "duplicate field": (
        ("      title: string(200)\n", "      title: string(200)\n      title: text\n"),
        "      title: text",
    ),
    "unsupported version": (("version: 1", "version: 2"), "version: 2"),
    "invalid check expression": (('"score >= 0"', '"score >= AND 0"'), "score >= AND 0"),
    "string without a length": (("title: string(200)", "title: string"), "title: string"),
    "lower-case entity name": (("  Note:\n", "  note:\n"), "  note:"),
}

LOCATION = re.compile(r"entities\.yaml:(\d+):(\d+): ")


def entityforge(*args: str, cwd: Path) -> Completed:
    return run([sys.executable, "-m", "entityforge", *args], cwd=cwd)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its bytes and modification time."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` where ``needle`` starts."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def assert_located_error(result: Completed, line: int | None = None) -> None:
    """Exit 2, ``entities.yaml:LINE:COL`` on stderr, no traceback, nothing on stdout."""
    assert result.returncode == 2, result.output
    assert "Traceback" not in result.output, result.output
    location = LOCATION.search(result.stderr)
    assert location, result.stderr
    if line is not None:
        assert int(location[1]) == line, result.stderr
    assert "hint:" in result.stderr, result.stderr


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tracker")
    spec = root / "tracker.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return new_project(root, spec)


@pytest.fixture
def project(baseline: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(baseline, tmp_path / "tracker", symlinks=True))


def break_spec(project: Path, kind: str) -> int | None:
    """Write the malformed spec of ``kind``; the line its error must name (None: any)."""
    (old, new), needle = MALFORMED[kind]
    assert SPEC.count(old) == 1, old
    text = SPEC.replace(old, new)
    (project / "entities.yaml").write_text(text, encoding="utf-8")
    return line_of(text, needle) if needle else None


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_spec_exits_2_with_its_location_and_writes_nothing(
    project: Path, kind: str
) -> None:
    line = break_spec(project, kind)
    before = snapshot(project)
    assert_located_error(entityforge("generate", cwd=project), line)
    assert snapshot(project) == before


@pytest.mark.parametrize(
    "command",
    [
        ("generate", "--check"),
        ("generate", "--dry-run"),
        ("generate", "--allow-destructive", "-m", "try"),
        ("init",),
        ("add-entity", "Label", "--field", "name:string(40)"),
    ],
    ids=lambda command: " ".join(command),
)
def test_every_command_reports_a_malformed_spec_alike(project: Path, command: tuple[str]) -> None:
    line = break_spec(project, "unknown type")
    before = snapshot(project)
    assert_located_error(entityforge(*command, cwd=project), line)
    assert snapshot(project) == before


def test_invalid_yaml_bytes_and_an_empty_spec(project: Path) -> None:
    spec = project / "entities.yaml"
    for data, line in ((b"version: 1\nentities:\n  A:\n    fields: {x: \xff}\n", 4), (b"", 1)):
        spec.write_bytes(data)
        before = snapshot(project)
        assert_located_error(entityforge("generate", cwd=project), line)
        assert snapshot(project) == before


def test_a_spec_given_with_spec_is_located_by_its_own_name(project: Path) -> None:
    other = project.parent / "draft.yaml"
    other.write_text(SPEC.replace("type: text,", "type: txt,"), encoding="utf-8")
    before = snapshot(project)
    result = entityforge("generate", "--spec", str(other), cwd=project)
    assert result.returncode == 2, result.output
    assert re.search(r"draft\.yaml:\d+:\d+: unknown type 'txt'", result.stderr), result.stderr
    assert snapshot(project) == before


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    destination = tmp_path / "existing"
    destination.mkdir()
    (destination / "notes.txt").write_text("keep me\n")
    result = entityforge("new", str(destination), cwd=tmp_path)
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    assert "not empty" in result.stderr and str(destination) in result.stderr, result.stderr
    assert [p.name for p in destination.iterdir()] == ["notes.txt"]


def test_new_with_a_bad_spec_leaves_no_directory(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(SPEC.replace("title: string(200)", "title: string"), encoding="utf-8")
    result = entityforge("new", str(tmp_path / "app-db"), "--spec", str(spec), cwd=tmp_path)
    assert result.returncode == 2, result.output
    assert "Traceback" not in result.output
    assert re.search(r"bad\.yaml:\d+:\d+: ", result.stderr), result.stderr
    assert not (tmp_path / "app-db").exists()


def test_new_with_a_bad_package_name_leaves_no_directory(tmp_path: Path) -> None:
    result = entityforge("new", str(tmp_path / "svc"), "--package", "my-app", cwd=tmp_path)
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output
    assert "--package" in result.stderr, result.stderr
    assert not (tmp_path / "svc").exists()


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ((), ("generate", "new", "init", "add-entity")),
        (("generate",), ("--check", "--dry-run", "--allow-destructive", "--message", "--spec")),
        (("new",), ("DESTINATION", "--spec", "--package")),
        (("init",), ("--spec", "--project-dir")),
        (("add-entity",), ("NAME", "--field", "--relation", "--soft-delete", "--dry-run")),
    ],
    ids=["entityforge", "generate", "new", "init", "add-entity"],
)
def test_help(tmp_path: Path, command: tuple[str, ...], mentions: tuple[str, ...]) -> None:
    result = entityforge(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.output
    assert result.stdout.startswith("Usage:"), result.stdout
    for mention in mentions:
        assert mention in result.stdout, result.stdout
    assert list(tmp_path.iterdir()) == []


def test_version(tmp_path: Path) -> None:
    result = entityforge("--version", cwd=tmp_path)
    assert result.returncode == 0, result.output
    assert version("entityforge") in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--field", "weight:intger"), r"entities\.yaml:\d+:\d+: unknown type 'intger'"),
        (
            ("--field", "name:text", "--relation", "owner:many_to_one:Person"),
            r"entities\.yaml:\d+:\d+: relation 'owner' of entity 'Label' targets 'Person'",
        ),
        (("--field", "weight"), r"--field 'weight': expected NAME:TYPE"),
        (("--field", "weight:integer:sometimes"), r"unknown option 'sometimes'"),
        (("--relation", "owner:belongs_to:Member"), r"--relation 'owner:belongs_to:Member'"),
        (("--field", "Weight:integer"), r"entities\.yaml:\d+:\d+: .*Weight"),
    ],
    ids=["bad type", "unknown target", "no type", "bad option", "bad kind", "bad field name"],
)
def test_add_entity_validates_like_generate(
    project: Path, arguments: tuple[str, ...], message: str
) -> None:
    before = snapshot(project)
    result = entityforge("add-entity", "Label", *arguments, cwd=project)
    assert result.returncode == 2, result.output
    assert "Traceback" not in result.output
    assert re.search(message, result.stderr), result.stderr
    assert snapshot(project) == before


def test_add_entity_refuses_an_existing_entity(project: Path) -> None:
    before = snapshot(project)
    result = entityforge("add-entity", "Note", "--field", "x:text", cwd=project)
    assert result.returncode == 2, result.output
    assert "'Note' exists already" in result.stderr, result.stderr
    assert snapshot(project) == before


def test_add_entity_on_a_spec_with_a_yaml_error_points_into_the_file(project: Path) -> None:
    line = break_spec(project, "duplicate field")
    before = snapshot(project)
    result = entityforge("add-entity", "Label", "--field", "name:text", cwd=project)
    assert_located_error(result, line)
    assert snapshot(project) == before


def test_add_entity_dry_run_prints_the_diffs_and_writes_nothing(project: Path) -> None:
    before = snapshot(project)
    result = entityforge(
        "add-entity", "Label", "--field", "name:string(40):unique", "--dry-run", cwd=project
    )
    assert result.returncode == 0, result.output
    assert "+  Label:\n" in result.stdout, result.stdout
    assert "+++ b/app/models/label.py" in result.stdout
    assert re.search(r"\+\+\+ b/app/alembic/versions/0002_\w+\.py", result.stdout)
    assert snapshot(project) == before


def test_add_entity_puts_the_table_in_a_schema(project: Path) -> None:
    result = entityforge(
        "add-entity",
        "Invoice",
        "--field",
        "total:integer",
        "--schema",
        "billing",
        "--dry-run",
        cwd=project,
    )
    assert result.returncode == 0, result.output
    assert "+    schema: billing\n" in result.stdout, result.stdout
    assert "CREATE SCHEMA IF NOT EXISTS billing" in result.stdout or "billing" in result.stdout
    bad = entityforge(
        "add-entity", "Invoice", "--field", "total:integer", "--schema", "Billing-1", cwd=project
    )
    assert bad.returncode == 2, bad.output
    assert "Traceback" not in bad.output
    assert re.search(r"entities\.yaml:\d+:\d+: .*Billing-1", bad.stderr), bad.stderr


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.com",
    "GIT_COMMITTER_NAME": "Template Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.com",
}


def git(repository: Path, *args: str) -> None:
    result = run(["git", *args], cwd=repository, env=GIT_IDENTITY)
    assert result.returncode == 0, result.output


def commit_all(repository: Path, message: str, tag: str | None = None) -> None:
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", message)
    if tag:
        git(repository, "tag", tag)


def copier(*args: str, cwd: Path) -> Completed:
    return run([sys.executable, "-m", "copier", *args], cwd=cwd, env=GIT_IDENTITY)


def test_copier_update_brings_a_newer_template_into_a_project(tmp_path: Path) -> None:
    """A project made from template v1 takes v2 with ``copier update`` and still generates."""
    template = tmp_path / "template-repository"
    template.mkdir()
    shutil.copy(REPO_ROOT / "copier.yml", template / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", template / "template")
    git(template, "init", "-q")
    commit_all(template, "template v1", tag="v1.0.0")
    spec = tmp_path / "tracker.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    made = copier(
        "copy",
        "--trust",
        "--defaults",
        "--data",
        f"entities_file={spec}",
        str(template),
        str(tmp_path / "tracker"),
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.output
    project = tmp_path / "tracker"
    (project / "app" / "services.py").write_text('"""Ours."""\n')
    git(project, "init", "-q")
    commit_all(project, "the project, made from template v1")
    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n## Support\n\nAsk in #{{ project_name }}-db.\n")
    (template / "template" / ".editorconfig").write_text(
        "root = true\n\n[*.py]\nindent_size = 4\n"
    )
    commit_all(template, "template v2", tag="v2.0.0")
    generated = snapshot(project / "app")

    updated = copier("update", "--trust", "--defaults", cwd=project)
    assert updated.returncode == 0, updated.output
    assert (project / "README.md").read_text().endswith("\n## Support\n\nAsk in #tracker-db.\n")
    assert (project / ".editorconfig").is_file()
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()
    assert snapshot(project / "app") == generated
    assert entityforge("generate", "--check", cwd=project).returncode == 0
    spec_file = project / "entities.yaml"
    spec_file.write_text(
        spec_file.read_text().replace(
            "      title: string(200)\n",
            "      title: string(200)\n      pinned: {type: boolean, default: false}\n",
        )
    )
    regenerated = entityforge("generate", cwd=project)
    assert regenerated.returncode == 0, regenerated.output
    assert re.search(r"created app/alembic/versions/0002_\w+\.py", regenerated.stdout)
