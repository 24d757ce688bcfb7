"""The process diagram, drawn from the order state machine itself.

Nothing here is a hand-kept picture: states and arrows come from the transitions
declared on ``Order``; each state is annotated with the process step whose clock runs
in it, and each transition with the roles whose groups hold its permission.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from .models import STEP_FOR_STATUS, Order, Status
from .roles import Role

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 176, 78, 40, 70, 12


@dataclass
class Node:
    status: Status
    col: int
    row: int
    step: object = None
    main: bool = True

    @property
    def x(self):
        return MARGIN + self.col * (BOX_W + GAP_X)

    @property
    def y(self):
        return MARGIN + self.row * (BOX_H + GAP_Y)

    @property
    def cx(self):
        return self.x + BOX_W / 2

    @property
    def cy(self):
        return self.y + BOX_H / 2


@dataclass
class Edge:
    path: str
    main: bool


@dataclass
class Diagram:
    width: int
    height: int
    nodes: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    transitions: list = field(default_factory=list)
    box_w: int = BOX_W
    box_h: int = BOX_H


def _transitions():
    """(name, source, target, permission, label) for every declared transition."""
    found = []
    for t in Order._meta.get_field("status").get_all_transitions(Order):
        found.append((t.name, t.source, t.target, t.permission, t.custom.get("label", t.name)))
    return found


def _main_path(edges, start):
    """The longest simple path from the initial state: the order's main road."""
    best = [start]

    def walk(path):
        nonlocal best
        if len(path) > len(best):
            best = list(path)
        for source, target in edges:
            if source == path[-1] and target not in path:
                walk([*path, target])

    walk([start])
    return best


def _groups_by_permission() -> dict[str, set[str]]:
    """{"app_label.codename": names of the groups holding it}, in one query."""
    holders: dict[str, set[str]] = {}
    rows = Group.permissions.through.objects.values_list(
        "permission__content_type__app_label", "permission__codename", "group__name"
    )
    for app_label, codename, group in rows:
        holders.setdefault(f"{app_label}.{codename}", set()).add(group)
    return holders


def _roles_holding(permission: str, holders: dict[str, set[str]]) -> list[str]:
    names = holders.get(permission, set())
    return [Role(name).label for name in Role.values if name in names]


def state_diagram(steps_by_code: dict) -> Diagram:
    transitions = _transitions()
    edges = sorted({(src, dst) for _, src, dst, _, _ in transitions if src != "*"})
    main = _main_path(edges, Status.PLACED)
    nodes = {status: Node(Status(status), i, 0) for i, status in enumerate(main)}

    side = [s for s in Status.values if s not in nodes]
    # Side states sit below the earliest main state that leads to them.
    side.sort(
        key=lambda s: min((main.index(a) for a, b in edges if b == s and a in main), default=99)
    )
    used = -1
    for status in side:
        first = min(
            (main.index(a) for a, b in edges if b == status and a in main), default=used + 1
        )
        col = max(first, used + 1)
        nodes[status] = Node(Status(status), col, 1, main=False)
        used = col
    for status, node in nodes.items():
        code = STEP_FOR_STATUS.get(status)
        node.step = steps_by_code.get(code) if code else None

    drawn = []
    pairs = set(edges)
    for src, dst in edges:
        a, b = nodes[src], nodes[dst]
        # Two-way pairs are drawn as two parallel arrows.
        offset = 10 if (dst, src) in pairs else 0
        if a.row == b.row:
            sign = 1 if b.col > a.col else -1
            y = a.cy + (offset if sign > 0 else -offset)
            x1 = a.x + BOX_W if sign > 0 else a.x
            x2 = b.x if sign > 0 else b.x + BOX_W
            path = f"M{x1},{y} L{x2 - 6 * sign},{y}"
        else:
            down = b.row > a.row
            shift = offset if down else -offset
            x1 = a.cx + shift
            x2 = b.cx + shift
            y1 = a.y + BOX_H if down else a.y
            y2 = b.y - 6 if down else b.y + BOX_H + 6
            path = f"M{x1},{y1} L{x2},{y2}"
        drawn.append(Edge(path, a.main and b.main))

    holders = _groups_by_permission()
    rows = [
        {
            "name": name,
            "label": label,
            "sources": [Status(s) for s in ([source] if isinstance(source, str) else source)],
            "target": Status(target),
            "roles": _roles_holding(permission, holders),
        }
        for name, source, target, permission, label in transitions
    ]
    merged = {}
    for row in rows:
        if row["name"] in merged:
            merged[row["name"]]["sources"] += row["sources"]
        else:
            merged[row["name"]] = row
    # List actions in the order an order meets them: by source, then by target.
    order_of = {status: (n.row, n.col) for status, n in nodes.items()}
    actions = sorted(
        merged.values(),
        key=lambda r: (min(order_of[s] for s in r["sources"]), order_of[r["target"]]),
    )
    cols = max(n.col for n in nodes.values()) + 1
    height_rows = max(n.row for n in nodes.values()) + 1
    return Diagram(
        width=2 * MARGIN + cols * BOX_W + (cols - 1) * GAP_X,
        height=2 * MARGIN + height_rows * BOX_H + (height_rows - 1) * GAP_Y,
        nodes=list(nodes.values()),
        edges=drawn,
        transitions=actions,
        box_w=BOX_W,
        box_h=BOX_H,
    )
