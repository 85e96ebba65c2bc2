"""Adaptor: print the bill of the config this run sees, and keep a copy in the rule's log."""

from emergence.atomic import atomic_path
from emergence.bill import Assumptions, bill, render

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
table = render(bill(sm.config), Assumptions())
print(table)
with atomic_path(sm.log[0]) as tmp:
    tmp.write_text(table)
