"""Benchmark data: a realistic order history written set-based (INSERT ... SELECT).

One module per department builds that department's rows from the shared plan of every
order's life (``plan.build_plan``); ``loader.load`` runs them in one transaction.
A feature that adds tables adds its rows in its department's module.
"""

from .loader import BenchmarkDataRefused, check_allowed, load  # noqa: F401
