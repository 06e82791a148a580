"""Revisions under write load, with a blocking transaction: is guarantee 14 kept?

    python bench/live_migrations.py                 # 300,000 rows, 8 workers, the table
    python bench/live_migrations.py --rows 50000 --output -   # print the table only

A project is generated from ``SPEC`` and migrated; ``events`` gets ``--rows`` rows. For
each kind of change the generator emits, the spec is edited, ``entityforge generate``
writes the revision, and ``alembic upgrade +1`` runs as the owner while ``--workers``
threads update and read ``events`` as the application's login (a member of the writer,
row-level security on) and another transaction holds a row lock on ``events``
(``SELECT ... FOR UPDATE``, the usual idle-in-transaction) until ``--hold`` seconds after
the first session starts waiting for it. Then every
revision is downgraded the same way, newest first. Each row of the table records the
migration's wall time, the load's p99 and maximum latency and its errors while the
migration ran, and the longest time an ACCESS EXCLUSIVE request on ``events`` waited
(sampled from ``pg_locks`` every 10 ms). A step is within guarantee 14 when it succeeds
or is refused before it changes anything, the load has no errors, and no load operation
waited longer than the lock timeout (plus ``SLACK`` for scheduling on a busy machine).

The kill matrix then runs each change with a long step (concurrent index, unique key,
validated check, foreign key, column made required) again from the revision before it,
kills the migration in that step (SIGKILL of the process, or ``pg_terminate_backend`` of
its backend), and runs ``alembic upgrade head`` once more: it must reach head.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from database import create_logins, database, drop_logins, libpq_url, server
from live_changes import CHANGES, KILLS, REWRITING_CHANGES, ROLES, Change

BENCH = Path(__file__).resolve().parent
DOCS_TABLE = BENCH.parent / "docs" / "live-migrations-bench.md"
LOCK_TIMEOUT = 1.0
MAX_HOLD = 30.0
SLACK = 0.05
ACCOUNT = "00000000-0000-0000-0000-00000000000a"


@dataclass
class Load:
    """Worker threads updating and reading random rows of ``events`` as the writer."""

    url: str
    ids: list[str]
    workers: int
    samples: list[tuple[float, float]] = field(default_factory=list)
    errors: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def user(self) -> str:
        return make_url(self.url).username or ""

    def start(self) -> None:
        for number in range(self.workers):
            thread = threading.Thread(target=self._work, args=(number,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _work(self, number: int) -> None:
        chooser = random.Random(number)
        with psycopg.connect(libpq_url(self.url), autocommit=True) as connection:
            connection.prepare_threshold = None
            while not self.stop.is_set():
                row = chooser.choice(self.ids)
                started = time.monotonic()
                try:
                    with connection.transaction():
                        connection.execute(
                            "SELECT set_config('app.tenant_id', %s, true)", (ACCOUNT,)
                        )
                        connection.execute("UPDATE events SET qty = qty + 1 WHERE id = %s", (row,))
                        connection.execute("SELECT qty FROM events WHERE id = %s", (row,))
                except psycopg.Error as error:
                    message = f"{type(error).__name__}: {error}".splitlines()[0]
                    self.errors.append((started, message))
                finished = time.monotonic()
                self.samples.append((started, finished - started))
                time.sleep(0.005)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def window(self, start: float, end: float) -> list[float]:
        """How long each operation begun between ``start`` and ``end`` took."""
        return [took for began, took in self.samples if start <= began <= end]

    def errors_in(self, start: float, end: float) -> list[str]:
        return [message for began, message in self.errors if start <= began <= end]


@dataclass
class Waits:
    """The longest lock waits seen while a step ran, sampled from ``pg_locks``."""

    exclusive: float = 0.0
    """An ACCESS EXCLUSIVE request on events (the migration's)."""
    load: float = 0.0
    """Any lock request of a load session (the application's login)."""


@contextmanager
def lock_sampler(url: str, load_user: str) -> Iterator[Waits]:
    """Sample ``pg_locks`` every 10 ms; yields the ``Waits`` it keeps up to date."""
    waits = Waits()
    stop = threading.Event()

    def sample() -> None:
        since: dict[str, float] = {}
        with psycopg.connect(libpq_url(url), autocommit=True) as connection:
            while not stop.is_set():
                rows = connection.execute(
                    "SELECT DISTINCT CASE WHEN l.mode = 'AccessExclusiveLock' "
                    "AND l.relation = 'events'::regclass THEN 'exclusive' "
                    "ELSE 'load ' || l.pid END FROM pg_locks AS l "
                    "JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE NOT l.granted "
                    "AND (l.mode = 'AccessExclusiveLock' OR a.usename = %s)",
                    (load_user,),
                ).fetchall()
                now = time.monotonic()
                waiting = {row[0] for row in rows}
                since = {key: since.get(key, now) for key in waiting}
                for key, start in since.items():
                    if key == "exclusive":
                        waits.exclusive = max(waits.exclusive, now - start)
                    else:
                        waits.load = max(waits.load, now - start)
                time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield waits
    finally:
        stop.set()
        thread.join()


@dataclass
class Blocker:
    """Another transaction holding a row lock on events (and so a lock on the table).

    It holds the lock until ``hold`` seconds after the first session starts waiting for
    it (the migration, or a session queued behind the migration's own wait), or until
    ``release`` is called, at most ``MAX_HOLD`` seconds.
    """

    url: str
    row: str
    hold: float
    released: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        time.sleep(0.2)

    def _run(self) -> None:
        with psycopg.connect(libpq_url(self.url)) as connection:
            connection.execute("SELECT id FROM events WHERE id = %s FOR UPDATE", (self.row,))
            with psycopg.connect(libpq_url(self.url), autocommit=True) as watcher:
                self._wait(watcher, connection.info.backend_pid)
            connection.rollback()

    def _wait(self, watcher: psycopg.Connection, pid: int) -> None:
        started = time.monotonic()
        waited_since: float | None = None
        while not self.released.is_set() and time.monotonic() - started < MAX_HOLD:
            if waited_since is None:
                blocked = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE %s = ANY(pg_blocking_pids(pid))",
                    (pid,),
                ).fetchone()
                if blocked and blocked[0]:
                    waited_since = time.monotonic()
            elif time.monotonic() - waited_since >= self.hold:
                return
            time.sleep(0.02)

    def release(self) -> None:
        self.released.set()
        if self.thread is not None:
            self.thread.join()


@dataclass(frozen=True)
class Row:
    change: str
    direction: str
    outcome: str
    wall: float
    p99: float
    worst: float
    errors: int
    waits: Waits

    @property
    def within(self) -> bool:
        """Done or refused, no load errors, no load session waiting on a lock longer
        than the lock timeout (and two samples)."""
        return (
            self.outcome in ("ok", "refused")
            and self.errors == 0
            and self.waits.load <= LOCK_TIMEOUT + SLACK
        )


def alembic(project: Path, owner: str, *args: str, **limits: str) -> subprocess.Popen[str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")}
    env |= {
        "MIGRATION_DATABASE_URL": owner,
        "PYTHONPATH": str(project),
        "MIGRATION_LOCK_TIMEOUT": f"{int(LOCK_TIMEOUT * 1000)}ms",
        "MIGRATION_LOCK_RETRIES": "10",
        "MIGRATION_RETRY_DELAY": "0.5",
    }
    env |= {f"MIGRATION_{name.upper()}": value for name, value in limits.items()}
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def measured(
    name: str,
    direction: str,
    project: Path,
    owner: str,
    load: Load,
    locked_row: str,
    hold: float,
    limits: dict[str, str],
) -> Row:
    """One ``alembic upgrade +1`` or ``downgrade -1`` while the row lock is held."""
    args = ("upgrade", "+1") if direction == "upgrade" else ("downgrade", "-1")
    held = Blocker(owner, locked_row, hold)
    with lock_sampler(owner, load.user) as waits:
        held.start()
        started = time.monotonic()
        process = alembic(project, owner, *args, **limits)
        output, _ = process.communicate()
        ended = time.monotonic()
        held.release()
    if limits:
        direction += " (" + ", ".join(f"{k}={v}" for k, v in limits.items()) + ")"
    took = load.window(started, ended) or [0.0]
    errors = load.errors_in(started, ended)
    refused = "MigrationRefused" in output
    outcome = "ok" if process.returncode == 0 else ("refused" if refused else "failed")
    if outcome != "ok" or errors:
        print(output, *sorted(set(errors)), sep="\n", file=sys.stderr)
    p99 = statistics.quantiles(took, n=100)[98] if len(took) > 1 else took[0]
    return Row(name, direction, outcome, ended - started, p99, max(took), len(errors), waits)


def generate(project: Path, spec: str, *flags: str) -> None:
    (project / "entities.yaml").write_text(spec, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "entityforge", "generate", "--project-dir", str(project), *flags],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stdout + result.stderr)


def fill(owner: str, rows: int) -> list[str]:
    """``rows`` events of one tenant; the ids of a sample of them."""
    with psycopg.connect(libpq_url(owner), autocommit=True) as connection:
        connection.execute("INSERT INTO accounts (id, name) VALUES (%s, 'bench')", (ACCOUNT,))
        renamed = connection.execute(
            "SELECT 1 FROM pg_attribute WHERE attrelid = 'events'::regclass "
            "AND attname = 'headline'"
        ).fetchone()
        title = "headline" if renamed else "title"
        connection.execute(
            f"INSERT INTO events (tenant_id, ref, {title}, status, qty, note) "
            "SELECT %s, 'r' || n, 'title ' || n, 'open', n %% 100, 'note ' || n "
            "FROM generate_series(1, %s) AS n",
            (ACCOUNT, rows),
        )
        connection.execute("VACUUM ANALYZE events")
        sample = connection.execute("SELECT id::text FROM events LIMIT 2000").fetchall()
    return [row[0] for row in sample]


def new_project(
    directory: Path, owner: str, rows: int, spec_text: str = CHANGES[0].before
) -> tuple[Path, list[str]]:
    """A project from ``spec_text``, migrated to head, ``events`` filled."""
    from entityforge.project import template

    project = directory / "live"
    spec = directory / "entities.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    template.copy_project(project, spec=spec)
    upgrade(project, owner)
    return project, fill(owner, rows)


def upgrade(project: Path, owner: str) -> None:
    process = alembic(project, owner, "upgrade", "head")
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(output)


def run_matrix(owner: str, settings: argparse.Namespace) -> list[Row]:
    """Every change up, the rewriting ones refused, every change down."""
    results: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="entityforge-live-") as scratch:
        project, ids = new_project(Path(scratch), owner, settings.rows)
        logins = create_logins(owner, *ROLES)
        load = Load(logins.writer, ids[1:], settings.workers)
        load.start()

        def step(change: Change, direction: str, **limits: str) -> None:
            row = measured(
                change.name, direction, project, owner, load, ids[0], settings.hold, limits
            )
            results.append(row)
            print(row, flush=True)

        try:
            for change in CHANGES:
                generate(project, change.after, *change.flags)
                step(change, "upgrade")
            for change in REWRITING_CHANGES:
                results.append(refused_at_generation(project, change))
            for change in reversed(CHANGES):
                step(change, "downgrade")
                if results[-1].outcome == "refused":
                    step(change, "downgrade", allow_rewrite="true")
        finally:
            load.finish()
            drop_logins(owner, logins)
    return results


def refused_at_generation(project: Path, change: Change) -> Row:
    try:
        generate(project, change.after)
    except RuntimeError:
        return Row(change.name, "generate", "refused", 0.0, 0.0, 0.0, 0, Waits())
    return Row(change.name, "generate", "written", 0.0, 0.0, 0.0, 0, Waits())


def run_kills(owner: str, rows: int) -> list[tuple[str, str, str, str]]:
    """``(change, statement, kill, result)`` for each kill case, each on a fresh schema."""
    results = []
    for change, statement in KILLS:
        for kill in ("process", "backend"):
            with tempfile.TemporaryDirectory(prefix="entityforge-kill-") as scratch:
                project, _ = new_project(Path(scratch), owner, rows, change.before)
                generate(project, change.after, *change.flags)
                result = killed_and_rerun(project, owner, statement, kill)
                results.append((change.name, statement, kill, result))
                print(results[-1], flush=True)
            reset(owner)
    return results


def reset(owner: str) -> None:
    with psycopg.connect(libpq_url(owner), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
        connection.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")


def killed_and_rerun(project: Path, owner: str, statement: str, kill: str) -> str:
    process = alembic(project, owner, "upgrade", "head")
    pid = _active(owner, statement)
    if pid is None:
        process.communicate()
        return "step not caught"
    if kill == "process":
        process.send_signal(signal.SIGKILL)
    else:
        with psycopg.connect(libpq_url(owner), autocommit=True) as connection:
            connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
    process.communicate()
    rerun = alembic(project, owner, "upgrade", "head")
    output, _ = rerun.communicate()
    if rerun.returncode != 0:
        return "rerun FAILED: " + output.strip().splitlines()[-1]
    with psycopg.connect(libpq_url(owner), autocommit=True) as connection:
        leftovers = connection.execute(
            "SELECT (SELECT count(*) FROM pg_index WHERE NOT indisvalid)"
            " + (SELECT count(*) FROM pg_constraint WHERE NOT convalidated)"
        ).fetchone()
    if leftovers and leftovers[0]:
        return "head, but with invalid indexes or unvalidated constraints"
    return "reached head"


def _active(owner: str, statement: str, timeout: float = 60.0) -> int | None:
    """The backend running ``statement`` (polled every 2 ms), once it has run 50 ms."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq_url(owner), autocommit=True) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query ILIKE %s "
                "AND pid <> pg_backend_pid()",
                (f"%{statement}%",),
            ).fetchone()
            if row:
                time.sleep(0.05)
                return int(row[0])
            time.sleep(0.002)
    return None


def table(rows: list[Row], kills: list[tuple[str, str, str, str]], settings: str) -> str:
    lines = [
        "# Live migrations under load",
        "",
        f"Written by `python bench/live_migrations.py` ({settings}). Lock timeout "
        f"{LOCK_TIMEOUT:.1f} s. Latencies are of one load operation (an UPDATE and a SELECT "
        "of one row, in a transaction with the tenant set, as the application's login); "
        "lock waits are sampled from `pg_locks` every 10 ms. A row is within guarantee 14 "
        "when the step succeeds or is refused before changing anything, the load has no "
        "errors, and no load session waited on a lock longer than the lock timeout "
        f"(+ {SLACK:.2f} s for the sampling). A downgrade marked `allow_rewrite` is a refused "
        "step run again with the rewrite allowed: a maintenance-window operation, outside "
        "the guarantee by design.",
        "",
        "| change | direction | outcome | wall s | load p99 ms | load max ms | load errors "
        "| load lock wait max s | ACCESS EXCLUSIVE wait max s | within 14 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        within = "yes" if row.within else ("n/a" if "allow_rewrite" in row.direction else "NO")
        lines.append(
            f"| {row.change} | {row.direction} | {row.outcome} | {row.wall:.2f} "
            f"| {row.p99 * 1000:.0f} | {row.worst * 1000:.0f} | {row.errors} "
            f"| {row.waits.load:.2f} | {row.waits.exclusive:.2f} | {within} |"
        )
    lines += ["", "## Kill and rerun", "", "| change | killed in | kill | rerun |"]
    lines.append("|---|---|---|---|")
    lines += [
        f"| {c} | `{statement}` | {kill} | {result} |" for c, statement, kill, result in kills
    ]
    return "\n".join(lines) + "\n"


def write_table(output: str, text: str) -> None:
    if output != "-":
        Path(output).write_text(text, encoding="utf-8")
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--hold", type=float, default=3.0, help="seconds the row lock is held")
    parser.add_argument("--no-kills", action="store_true")
    parser.add_argument("--output", default=str(DOCS_TABLE), help="a file, or - for stdout")
    settings = parser.parse_args(argv)
    with server() as server_url, database(server_url) as owner:
        described = (
            f"{settings.rows:,} rows, {settings.workers} workers, a row lock held until "
            f"{settings.hold:.0f} s after a session first waits on it"
        )
        rows = run_matrix(owner, settings)
        write_table(settings.output, table(rows, [], described))
        reset(owner)
        kills = [] if settings.no_kills else run_kills(owner, settings.rows)
        write_table(settings.output, table(rows, kills, described))
    allowed = [row for row in rows if "allow_rewrite" not in row.direction]
    kept = all(row.within for row in allowed) and all(k[3] == "reached head" for k in kills)
    return 0 if kept else 1


if __name__ == "__main__":
    raise SystemExit(main())
