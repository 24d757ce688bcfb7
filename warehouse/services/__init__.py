"""Everything that writes stock. Quantities change only through these functions, with
``F()`` expressions on rows locked in primary-key order; the database's check
constraints refuse a negative quantity or an oversell even if this code is bypassed.

A package of modules by concern; the names are re-exported here."""

from .fulfilment import (  # noqa: F401
    _fulfilment,
    _lock,
    _ready_to_pack,
    _ready_to_pick,
    acknowledge_order,
    add_package,
    finish_packing,
    mark_packages_shipped,
    pick_targets,
    picked_quantities,
    record_pick,
    remove_package,
    report_discrepancy,
    review_order,
    share_reserved,
)
from .returns import take_back  # noqa: F401
from .stock import (  # noqa: F401
    MAIN_WAREHOUSE,
    Shortage,
    StockError,
    _backorder_for,
    _require_warehouse,
    adjust_stock,
    main_warehouse,
    receive_goods,
    release_reservations,
    reserve_order,
    serve_backorders,
    stock_item_for,
    take_out,
    unshipped_quantities,
)
