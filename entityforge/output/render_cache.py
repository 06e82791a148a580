"""Skipping the render when nothing it reads has changed since the last generation.

A generation is a pure function of the spec's text, the project's revision files, the
package name and the generator itself (its code and templates, and the formatter). After
a generation is written, the digest of those inputs is kept in ``.entityforge``; the last
generated copies kept beside it are exactly what rendering the same inputs again would
give (the recorded schema of the newest revision is the spec's, so no new revision
comes out). When the next generation finds the same digest it plans from those copies:
the spec is not even parsed. Any change of an input, a revision added by hand included,
changes the digest and the project is rendered as usual.

With the digest, the size and modification time of every file the generation wrote (and
of its last-generated copy) are kept: when none has changed either, the files are what
the generation left, and there is nothing to plan: not a file is read (``untouched``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from entityforge.output.writer import write_atomic
from entityforge.project import ProjectConfig, read_text

# Under cache/, which projects keep out of version control: the digest covers this
# installation of entityforge, so it differs from one machine to another.
INPUTS_FILE = "cache/inputs-digest"
FILES_FILE = "cache/written-files.json"
WARNINGS_FILE = "cache/warnings.json"
_GENERATOR_SUFFIXES = (".py", ".jinja")
_FORMATTERS = ("black", "ruff")


def inputs_digest(
    config: ProjectConfig, spec_text: str, revisions: Iterable[tuple[str, str]]
) -> str:
    """The digest of everything a generation of ``config``'s project reads."""
    hasher = hashlib.sha256()
    for part in (generator_fingerprint(), config.package, spec_text):
        _add(hasher, part)
    for name, text in revisions:
        _add(hasher, name)
        _add(hasher, text)
    return hasher.hexdigest()


def _add(hasher: hashlib._Hash, text: str) -> None:
    data = text.encode()
    hasher.update(len(data).to_bytes(8, "big"))
    hasher.update(data)


def _origin(package: str) -> str:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None, package
    return spec.origin


@cache
def generator_fingerprint() -> str:
    """The digest of entityforge's own code and templates (each file's name, size and
    modification time, as the generated files are checked) and of the formatters'
    versions."""
    hasher = hashlib.sha256()
    # Located, not imported: the generators are a later stage than this one.
    roots = {Path(_origin("entityforge")).parent, Path(_origin("entityforge.generators")).parent}
    for root in sorted(roots):
        for directory, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                if name.endswith(_GENERATOR_SUFFIXES):
                    status = os.stat(os.path.join(directory, name))
                    relative = os.path.relpath(os.path.join(directory, name), root)
                    _add(hasher, f"{relative} {status.st_size} {status.st_mtime_ns}")
    for name in _FORMATTERS:
        try:
            _add(hasher, f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            _add(hasher, f"{name} missing")
    return hasher.hexdigest()


def is_current(config: ProjectConfig, digest: str) -> bool:
    """Whether the last written generation was made from inputs with this digest."""
    return read_text(config.state_dir / INPUTS_FILE) == digest + "\n"


def record(
    config: ProjectConfig,
    digest: str | None,
    files: Iterable[Path] = (),
    warnings: Sequence[str] = (),
) -> None:
    """Keep the digest of the generation just written (None forgets any kept one), the
    warnings it gave (a generation skipped for the same inputs gives them again), and
    the size and modification time of ``files``, what it wrote and left (none given:
    those kept stay, as a generation that found nothing to do leaves them)."""
    path = config.state_dir / INPUTS_FILE
    listing = config.state_dir / FILES_FILE
    kept_warnings = config.state_dir / WARNINGS_FILE
    if digest is None:
        for kept in (path, listing, kept_warnings):
            kept.unlink(missing_ok=True)
        return
    signatures = _signatures(config.root, files)
    text = json.dumps(signatures, separators=(",", ":")) + "\n"
    if signatures and read_text(listing) != text:
        write_atomic(listing, text)
    warnings_text = json.dumps(list(warnings), indent=1) + "\n"
    if read_text(kept_warnings) != warnings_text:
        write_atomic(kept_warnings, warnings_text)
    if read_text(path) != digest + "\n":
        write_atomic(path, digest + "\n")


def recorded_warnings(config: ProjectConfig) -> tuple[str, ...]:
    """The warnings of the last written generation (none when they were not kept)."""
    text = read_text(config.state_dir / WARNINGS_FILE)
    try:
        warnings = json.loads(text) if text is not None else []
    except json.JSONDecodeError:
        return ()
    if not isinstance(warnings, list):
        return ()
    return tuple(warning for warning in warnings if isinstance(warning, str))


def untouched(config: ProjectConfig) -> bool:
    """Whether every file the last written generation recorded is as it left it."""
    recorded = _recorded_signatures(config)
    return bool(recorded) and len(as_left(config, recorded)) == len(recorded)


def as_left(config: ProjectConfig, paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` (relative to the project) that the last written generation
    recorded and that are as it left them (their size and modification time)."""
    recorded = _recorded_signatures(config)
    root = f"{config.root}/"
    found = set()
    for relative in paths:
        signature = recorded.get(relative)
        if signature is None:
            continue
        try:
            status = os.stat(root + relative)
        except OSError:
            continue
        if signature == [status.st_size, status.st_mtime_ns]:
            found.add(relative)
    return found


def _recorded_signatures(config: ProjectConfig) -> dict[str, object]:
    text = read_text(config.state_dir / FILES_FILE)
    if text is None:
        return {}
    try:
        recorded = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _signatures(root: Path, files: Iterable[Path]) -> dict[str, list[int]]:
    signatures = {}
    prefix = f"{root}/"
    for path in files:
        name = str(path)
        try:
            status = os.stat(name)
        except OSError:
            continue
        relative = name.removeprefix(prefix) if name.startswith(prefix) else name
        signatures[relative] = [status.st_size, status.st_mtime_ns]
    return signatures
