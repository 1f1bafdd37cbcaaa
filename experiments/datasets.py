"""The names of the datasets a results directory can hold, in a module that imports nothing, so
that the command line can name them in its help without loading the batch machinery."""

from __future__ import annotations

RESULT_TABLES = ("runs", "cashflows", "budgets")
"""The datasets every batch stores: one row per replication, the contract's cashflows, the budgets
per year."""

RECORD_TABLES = ("persons", "events", "spells")
"""The simulation's record tables that can be stored too (opt-in: they are large)."""
