"""Demo data for ``manage.py seed_demo``: one login per role, products, and about 50
orders in every state, driven through every app's services with the clock set back.

One module per concern: the logins, the catalogue and the customers; the orders walked
through the process (``process``), and each department's part of it (``warehouse``,
``logistics``, ``finance``, ``feedback``). ``seed`` runs them in order.
"""

from orders import services
from orders.models import Order

from . import catalogue, feedback, logins, logistics, process, warehouse


def seed(log):
    """Add the demo data (orders only to a database without any), reporting to ``log``."""
    users = logins.users()
    products = catalogue.products()
    warehouse.stock(products)
    logistics.carriers()
    if Order.objects.exists():
        log("Orders exist already; demo orders were not added again.")
    else:
        process.orders(users, products)
        warehouse.low_stock(products, users)
        feedback.receipts(users)
        feedback.surveys(users)
        marked = services.mark_overdue_steps()
        services.escalate_overdue_follow_ups()
        log(f"Created {Order.objects.count()} demo orders ({marked} late).")
    log("Demo logins (local use only), password for all: " + logins.DEMO_PASSWORD)
    for username, *_, role in logins.USERS:
        log(f"  {username:<10} {role.label}")
    log("  admin      superuser (Django admin)")
