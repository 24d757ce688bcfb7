"""Bulk loading without per-row index and foreign-key work, and nothing lost.

The keys, indexes and foreign keys of the loaded tables are read from the catalogue
(so indexes that other features add are kept too), dropped, and created again after
the load, in the same transaction: building an index once and checking a foreign key
with one join is far faster than doing both for every row, and every constraint is
still checked against every row. If anything fails, the rollback puts them back."""

from dataclasses import dataclass, field


@dataclass
class Saved:
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)
    keys: list[tuple[str, str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str]] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot(cursor, tables: list[str]) -> Saved:
    """The definitions of the tables' keys, indexes and foreign keys (also those of
    other tables that point at them)."""
    saved = Saved()
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype = 'f'
          AND (conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[]))
        ORDER BY 1, 2
        """,
        [tables, tables],
    )
    saved.foreign_keys = list(cursor.fetchall())
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE contype IN ('p', 'u', 'x') AND conrelid = ANY(%s::regclass[])
        ORDER BY contype, 1, 2
        """,
        [tables],
    )
    saved.keys = list(cursor.fetchall())
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                          WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
        ORDER BY 1
        """,
        [tables],
    )
    saved.indexes = list(cursor.fetchall())
    return saved


def drop(cursor, saved: Saved) -> None:
    for table, name, _definition in saved.foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
    for table, name, _definition in saved.keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
    for name, _definition in saved.indexes:
        cursor.execute(f"DROP INDEX {name}")


def restore(run, saved: Saved) -> None:
    """Keys first (foreign keys need the referenced keys), then indexes, then foreign
    keys, each checked against all rows."""
    for table, name, definition in saved.keys:
        run(
            f"key {name}"[:46],
            f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}",
            quiet=True,
        )
    for name, definition in saved.indexes:
        run(f"index {name}"[:46], definition, quiet=True)
    for table, name, definition in saved.foreign_keys:
        run(
            f"fk {name}"[:46],
            f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}",
            quiet=True,
        )
