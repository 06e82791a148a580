"""The copier template this package ships, and creating a project from it."""

from __future__ import annotations

import warnings
from pathlib import Path

from entityforge.errors import GenerationError
from entityforge.naming import PLAIN_IDENTIFIER

# The entityforge package: its examples, and the template beside it or inside it.
PACKAGE_DIR = Path(__file__).resolve().parents[1]
EXAMPLE_SPEC = PACKAGE_DIR / "examples" / "entities.yaml"


def template_root() -> Path:
    """The directory holding ``copier.yml``: the source checkout, or the installed copy."""
    for candidate in (PACKAGE_DIR.parent, PACKAGE_DIR / "project_template"):
        if (candidate / "copier.yml").is_file() and (candidate / "template").is_dir():
            return candidate
    raise GenerationError(
        "the project template is missing from this installation of entityforge",
        hint="reinstall entityforge (pip install --force-reinstall entityforge)",
    )


def copy_project(
    destination: Path,
    *,
    spec: Path | None = None,
    package: str = "app",
    project_name: str | None = None,
) -> None:
    """Create a project at ``destination`` with copier, answering its questions."""
    from copier import run_copy
    from copier.errors import CopierError, DirtyLocalWarning
    from plumbum import ProcessExecutionError

    if not PLAIN_IDENTIFIER.match(package):
        raise GenerationError(
            f"--package must be a Python package name, not {package!r}", hint="for example: app"
        )
    if destination.exists() and any(destination.iterdir()):
        raise GenerationError(
            f"{destination} exists and is not empty", hint="choose a new directory"
        )
    data = {
        "project_name": project_name or destination.resolve().name,
        "package_name": package,
        "entities_file": str(spec.resolve()) if spec else "",
    }
    root = template_root()
    with warnings.catch_warnings():
        # A source checkout with uncommitted changes is copied as it is; that is the point.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        try:
            run_copy(
                str(root),
                str(destination),
                data=data,
                defaults=True,
                unsafe=True,
                quiet=True,
                # The template is this installation's own: no tag to look for.
                vcs_ref="HEAD",
            )
        except ProcessExecutionError as error:  # git, which copier runs on the template
            said = (error.stderr or "").strip().splitlines() or [str(error)]
            raise GenerationError(
                f"copier could not copy the template in {root}: {said[-1]}",
                hint="copier clones that checkout with git; keep other git repositories "
                "(a project made inside it, for instance) out of it",
            ) from None
        except CopierError as error:
            raise GenerationError(
                f"copier could not make the project: {error}",
                hint="the messages above say which step failed",
            ) from None
