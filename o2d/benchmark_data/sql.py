"""Small SQL helpers shared by the department builders.

Every random choice is a pure function of a row's id, a salt and the --seed
(``bench_rnd``), so the same seed gives the same data whatever plan PostgreSQL picks.
The working tables (``bench_*``) are temporary: they disappear with the transaction.
"""

import re
import time

# The timeline's, the emails' and the other per-order tables' ids leave room for a
# fixed number of rows per order ("slots"): id = base + order id * SLOTS + slot. Ids
# then need no join to be found again (a tracking event knows its exception's id).
EVENT_SLOTS = 48  # 0-26: orders to feedback; 27-45: finance (finance.py); 46-47 free
NOTIFICATION_SLOTS = 16
LINE_SLOTS = 4
PACKAGE_SLOTS = 2
TRACKING_SLOTS = 4
LEDGER_SLOTS = 8


def create_functions(cursor, seed: int) -> None:
    """``bench_rnd(id, salt)``: a uniform number in [0, 1), fixed by id, salt and seed.

    A SQL function of one expression, so PostgreSQL inlines it (no call per row)."""
    seed = int(seed)
    cursor.execute(
        f"""
        CREATE FUNCTION pg_temp.bench_rnd(n bigint, salt integer) RETURNS double precision
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT ((hashint8extended(n, {seed} * 1009 + salt) >> 11) & 9007199254740991)::float8
                   / 9007199254740992.0
        $$
        """
    )


def rnd(salt: int, row: str = "p.id") -> str:
    return f"pg_temp.bench_rnd({row}, {int(salt)})"


def expo(salt: int, mean: str, row: str = "p.id") -> str:
    """An exponentially distributed duration with mean ``mean`` (an interval literal),
    capped at six means so no order waits for years."""
    return f"(least(-ln(1 - {rnd(salt, row)}), 6) * interval '{mean}')"


def pick(salt: int, values: list[str], row: str = "p.id") -> str:
    """One of ``values`` (SQL literals), uniformly."""
    array = ", ".join(values)
    return f"(ARRAY[{array}])[1 + floor({rnd(salt, row)} * {len(values)})::int]"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Runner:
    """Runs the builders' statements and reports each one's time and row count."""

    def __init__(self, cursor, log):
        self.cursor = cursor
        self.log = log
        # Rows inserted per table, from the statements' own counts.
        self.inserted: dict[str, int] = {}

    def __call__(self, label: str, sql: str, params=None, *, quiet=False) -> int:
        """Run one statement; ``quiet`` statements are reported only when slow."""
        if LATERAL_VALUES in sql:
            sql = unroll_values(sql)
        started = time.monotonic()
        self.cursor.execute(sql, params)
        rows = self.cursor.rowcount
        took = time.monotonic() - started
        if sql.lstrip().upper().startswith("INSERT INTO") and rows > 0:
            table = sql.split()[2]
            self.inserted[table] = self.inserted.get(table, 0) + rows
        if not quiet or took >= 2:
            shown = f" {rows:>10,} rows" if rows and rows > 0 else ""
            self.log(f"  {label:<46}{shown} {took:6.1f} s")
        return rows

    def scalar(self, sql: str, params=None):
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()[0]


LATERAL_VALUES = "CROSS JOIN LATERAL (VALUES"


def _split(text: str, separator: str = ",") -> list[str]:
    """Split at top-level separators (outside parentheses, brackets and quotes)."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def unroll_values(sql: str) -> str:
    """Write ``SELECT <outer> FROM <source> CROSS JOIN LATERAL (VALUES (row), ...)
    e(at, ...) WHERE e.at IS NOT NULL`` as one SELECT per row, joined by UNION ALL.

    The builders list an order's rows of one kind side by side (easy to read); the
    UNION ALL form lets PostgreSQL skip the expressions of rows that do not happen
    (a VALUES list computes every row before the filter), several times faster."""
    start = sql.index(LATERAL_VALUES)
    depth, quoted, i = 0, False, start + len("CROSS JOIN LATERAL ")
    while i < len(sql):  # to the parenthesis that closes the VALUES list
        if sql[i] == "'":
            quoted = not quoted
        elif not quoted and sql[i] == "(":
            depth += 1
        elif not quoted and sql[i] == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    rows_text = sql[start + len(LATERAL_VALUES) : i]
    alias = re.match(r"\s*(\w+)\(([^)]*)\)\s*", sql[i + 1 :])
    name, columns = alias.group(1), [c.strip() for c in alias.group(2).split(",")]
    rest = sql[i + 1 + alias.end() :].strip()
    if rest != f"WHERE {name}.at IS NOT NULL":
        raise ValueError(f"unroll_values: unexpected {rest!r}")
    head = sql[:start]
    select_at = head.index("SELECT")
    from_at = re.search(r"\bFROM\b", head[select_at:]).start() + select_at
    insert, outer, source = head[:select_at], head[select_at + 6 : from_at], head[from_at + 4 :]
    branches = []
    for row in _split(rows_text):
        values = dict(zip(columns, _split(row.strip()[1:-1]), strict=True))
        projection = re.sub(
            rf"\b{name}\.(\w+)\b", lambda m, row=values: f"({row[m.group(1)]})", outer
        )
        where = f"({values['at']}) IS NOT NULL"
        branches.append(f"SELECT {projection} FROM {source} WHERE {where}")  # noqa: S608
    return insert + "\nUNION ALL\n".join(branches)
