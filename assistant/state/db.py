"""Open the state database and bring its schema up to date.

Migrations are the files ``migrations/NNN_name.sql`` beside this module, applied in number order
inside one transaction each; ``PRAGMA user_version`` records the highest number applied. A
database written by a newer assistant (a version above every known migration) is refused rather
than guessed at.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from assistant.errors import StateError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, Path]]:
    found = []
    for path in MIGRATIONS_DIR.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    numbers = [n for n, _ in found]
    if len(numbers) != len(set(numbers)):
        raise StateError("two migrations share a number", f"renumber the files in {MIGRATIONS_DIR}")
    return sorted(found)


def open_state(path: Path) -> sqlite3.Connection:
    """Connect to the database at ``path`` (created if missing) and apply pending migrations."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        _migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise StateError(
            f"cannot open the state database {path}: {exc}",
            "move the file aside (it will be recreated) or restore it from a backup",
        ) from exc
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    known = migrations()
    newest = known[-1][0] if known else 0
    if current > newest:
        raise StateError(
            f"the state database is at schema version {current}, newer than this assistant knows ({newest})",
            "upgrade the assistant, or point ASSISTANT_HOME at another directory",
        )
    for number, path in known:
        if number <= current:
            continue
        script = path.read_text(encoding="utf-8")
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-check under the write lock: another process may have migrated meanwhile.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= number:
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    parts, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                parts.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        parts.append(buffer.strip())
    return parts
