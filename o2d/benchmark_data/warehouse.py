"""The warehouse's rows: bins and stock rows for the products, fulfilment (hand-off,
round, packing), reservations, picks, packages, reviews, and the stock levels that
match the reservations still open."""

# The SQL is built from integers, SQL literals (quoted by sql.literal) and table
# names from the models; values from outside go in as parameters.
# ruff: noqa: S608

from .context import Context
from .sql import EVENT_SLOTS, PACKAGE_SLOTS, rnd


def ensure_stock(run, ctx: Context) -> None:
    """A bin and a stock row in the main warehouse for every product that has none;
    ``bench_stock`` maps products to their stock rows."""
    run(
        "warehouse_bin (missing ones)",
        """
        INSERT INTO warehouse_bin (warehouse_id, code)
        SELECT %(warehouse)s, 'BEN-' || chr(65 + mod(p.idx::int, 6)) || '-'
                              || lpad((p.idx / 6 + 1)::text, 3, '0')
        FROM bench_product p
        WHERE NOT EXISTS (SELECT 1 FROM warehouse_stockitem s
                          WHERE s.warehouse_id = %(warehouse)s AND s.product_id = p.id)
        ON CONFLICT (warehouse_id, code) DO NOTHING
        """,
        {"warehouse": ctx.warehouse_id},
    )
    run(
        "warehouse_stockitem (missing ones)",
        """
        INSERT INTO warehouse_stockitem (warehouse_id, product_id, bin_id, on_hand, reserved,
                                         low_stock_threshold)
        SELECT %(warehouse)s, p.id, b.id, 0, 0, 10
        FROM bench_product p
        LEFT JOIN warehouse_bin b ON b.warehouse_id = %(warehouse)s
             AND b.code = 'BEN-' || chr(65 + mod(p.idx::int, 6)) || '-'
                          || lpad((p.idx / 6 + 1)::text, 3, '0')
        ON CONFLICT (warehouse_id, product_id) DO NOTHING
        """,
        {"warehouse": ctx.warehouse_id},
    )
    run(
        "stock: working table",
        """
        CREATE TEMP TABLE bench_stock ON COMMIT DROP AS
        SELECT product_id, id AS stock_item_id FROM warehouse_stockitem
        WHERE warehouse_id = %(warehouse)s
        """,
        {"warehouse": ctx.warehouse_id},
    )


def insert_fulfilment(run, ctx: Context) -> None:
    """Fulfilment for every order the warehouse acknowledged (round 2 after a shortage,
    as the backorder starts a new round), reservations (taken when stock was checked,
    released when the goods shipped), picks (one per line, the last one picks the
    order), packages (one, sometimes two, with the carrier's label once shipped) and
    the second person's passed review."""
    params = ctx.params()
    run(
        "warehouse_fulfilment",
        """
        INSERT INTO warehouse_fulfilment (order_id, acknowledged_at, acknowledged_by_id, round,
                                          packed_at, packed_by_id)
        SELECT p.id, p.m_ack, %(warehouse)s, CASE WHEN p.m_bo IS NULL THEN 1 ELSE 2 END,
               CASE WHEN p.status <> 'backordered' THEN p.m_pack END,
               CASE WHEN p.status <> 'backordered' AND p.m_pack IS NOT NULL
                    THEN %(warehouse)s END
        FROM bench_plan p WHERE p.m_ack IS NOT NULL
        """,
        params,
    )
    run(
        "warehouse_reservation",
        f"""
        INSERT INTO warehouse_reservation (id, order_id, stock_item_id, quantity, created_at,
                                           released_at)
        SELECT {ctx.base("warehouse_reservation")} + l.id - {ctx.base("orders_orderline")},
               p.id, s.stock_item_id, l.quantity, r.at, p.m_ship
        FROM bench_plan p
        CROSS JOIN LATERAL (SELECT CASE WHEN p.m_bo IS NULL THEN p.m_ack ELSE p.m_rel END
                            AS at) r
        JOIN bench_line l ON l.order_id = p.id
        JOIN bench_stock s ON s.product_id = l.product_id
        WHERE r.at IS NOT NULL AND p.status <> 'cancelled'
        """,
        params,
    )
    run(
        "warehouse_pick",
        f"""
        INSERT INTO warehouse_pick (id, order_id, line_id, round, quantity, scanned, by_id,
                                    created_at)
        SELECT {ctx.base("warehouse_pick")} + l.id - {ctx.base("orders_orderline")}, p.id, l.id,
               CASE WHEN p.m_bo IS NULL THEN 1 ELSE 2 END, l.quantity, l.sku, %(warehouse)s,
               p.m_pick - (p.nlines - l.k) * interval '45 seconds'
        FROM bench_plan p JOIN bench_line l ON l.order_id = p.id
        WHERE p.m_pick IS NOT NULL
        """,
        params,
    )
    run(
        "warehouse_package",
        f"""
        INSERT INTO warehouse_package (id, order_id, round, weight_kg, length_cm, width_cm,
                                       height_cm, by_id, created_at, carrier_name,
                                       tracking_number)
        SELECT {ctx.base("warehouse_package")} + p.id * {PACKAGE_SLOTS} + j, p.id,
               CASE WHEN p.m_bo IS NULL THEN 1 ELSE 2 END,
               round((0.3 + {rnd(90, f"p.id * {PACKAGE_SLOTS} + j")} * 8)::numeric, 3),
               (ARRAY[20, 30, 40, 60])[1 + floor({rnd(91)} * 4)::int],
               (ARRAY[15, 20, 30])[1 + floor({rnd(92)} * 3)::int],
               (ARRAY[10, 15, 20, 30])[1 + floor({rnd(93)} * 4)::int],
               %(warehouse)s, p.m_pack - interval '2 minutes' + j * interval '30 seconds',
               coalesce(sh.carrier_name, ''), coalesce(sh.tracking_number, '')
        FROM bench_plan p
        CROSS JOIN generate_series(0, CASE WHEN {rnd(94)} < 0.15 THEN 1 ELSE 0 END) j
        LEFT JOIN bench_ship sh ON sh.order_id = p.id
        WHERE p.m_pack IS NOT NULL
        """,
        params,
    )
    run(
        "warehouse_review",
        f"""
        INSERT INTO warehouse_review (id, order_id, round, passed, notes, by_id, created_at)
        SELECT {ctx.base("warehouse_review")} + p.id, p.id,
               CASE WHEN p.m_bo IS NULL THEN 1 ELSE 2 END, true, '', %(checker)s, p.m_rev
        FROM bench_plan p WHERE p.m_rev IS NOT NULL
        """,
        params,
    )
    run(
        "orders_orderevent (warehouse)",
        f"""
        INSERT INTO orders_orderevent (id, order_id, created_at, actor_id, kind, from_status,
                                       to_status, note, code, data, public)
        SELECT {ctx.base("orders_orderevent")} + p.id * {EVENT_SLOTS} + 19, p.id,
               p.m_bo - interval '1 second', NULL, 'system', '', '', '', 'shortage',
               jsonb_build_object('lines', jsonb_build_array(jsonb_build_object(
                   'sku', l.sku, 'wanted', l.quantity, 'available', 0))),
               false
        FROM bench_plan p JOIN bench_line l ON l.order_id = p.id AND l.k = 1
        WHERE p.m_bo IS NOT NULL
        """,
        params,
    )


def set_stock_levels(run, ctx: Context) -> None:
    """Stock rows hold exactly the units still reserved, and some more on the shelf
    (a few products run low, below their alert threshold)."""
    run(
        "warehouse_stockitem (levels)",
        f"""
        UPDATE warehouse_stockitem s
        SET reserved = coalesce(r.reserved, 0),
            on_hand = coalesce(r.reserved, 0)
                      + CASE WHEN {rnd(95, "s.id")} < 0.05 THEN floor({rnd(96, "s.id")} * 8)::int
                             ELSE 40 + floor({rnd(96, "s.id")} * 400)::int END
        FROM (SELECT st.id, sum(rv.quantity) AS reserved
              FROM warehouse_stockitem st
              LEFT JOIN warehouse_reservation rv ON rv.stock_item_id = st.id
                                                AND rv.released_at IS NULL
              WHERE st.warehouse_id = %(warehouse)s GROUP BY st.id) r
        WHERE r.id = s.id
        """,
        {"warehouse": ctx.warehouse_id},
    )
