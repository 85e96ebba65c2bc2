"""What a run writes: the names of its result tables and figures, declared once.

Torch- and matplotlib-free: the workflow imports it whenever it is parsed, and so does the bill.
"""

from __future__ import annotations

FIGURE_NAMES: tuple[str, ...] = (
    "time",
    "space",
    "scale",
    "alignment",
    "f1",
    "granularity",
    "decomposition",
)
"""``results/figures/{name}.png`` (and ``.pdf``); `emergence.figures.FIGURES` draws each."""

CHECKPOINT_TABLE_NAMES: tuple[str, ...] = ("activation", "alignment", "granularity", "ceilings")
"""``results/concepts/{scale}/{ckpt}/{name}.csv``: the fields of
`emergence.analysis.concepts.CheckpointTables`, which the ``tables`` rule gathers."""

TABLE_NAMES: tuple[str, ...] = (
    "activation",
    "alignment",
    "granularity",
    "verification",
    "ceilings",
)
"""``results/tables/{name}.csv`` written by the ``tables`` rule (`emergence.analysis.tables`)."""
