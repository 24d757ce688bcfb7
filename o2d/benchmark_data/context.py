"""What every builder needs to know: sizes, the clock, the staff and the config rows."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Service:
    """A carrier service an order may ship with (one with an "everywhere" rule)."""

    id: int
    carrier_id: int
    carrier_name: str
    transit_days: int
    honours_time_window: bool
    tracking_url: str
    tracking_prefix: str
    tracking_digits: int
    tracking_suffix: str
    check_digit: str


@dataclass
class Context:
    orders: int
    days: int
    seed: int
    now: datetime
    time_zone: str
    # Staff user ids by demo username (sales, warehouse, checker, logistics, finance, manager).
    staff: dict[str, int]
    services: list[Service]
    warehouse_id: int
    # Process step targets by step code (None: no clock), and follow-up times.
    targets: dict[str, timedelta | None]
    follow_up_within: dict[str, timedelta | None]
    # The first id each table's new rows are counted from (max(id) before loading).
    bases: dict[str, int] = field(default_factory=dict)

    @property
    def customers(self) -> int:
        return max(1, self.orders // 5)

    def base(self, table: str) -> int:
        return self.bases.get(table, 0)

    def params(self) -> dict:
        """The values every statement may use as %(name)s."""
        return {
            "now": self.now,
            "tz": self.time_zone,
            "sales": self.staff["sales"],
            "warehouse": self.staff["warehouse"],
            "checker": self.staff["checker"],
            "logistics": self.staff["logistics"],
            "finance": self.staff["finance"],
            "manager": self.staff["manager"],
        }


def interval(value: timedelta | None) -> str:
    """An SQL interval literal (``NULL`` for no value)."""
    if value is None:
        return "NULL::interval"
    return f"interval '{int(value.total_seconds())} seconds'"
