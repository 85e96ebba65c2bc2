"""Adaptor: generate the micro suite's training and held-out paragraphs."""

from emergence.corpus import bundled_domains
from emergence.logs import setup_logging
from emergence.micro.text import build_corpus, write_corpus

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
cfg = sm.params.micro
train, held = build_corpus(
    bundled_domains(), cfg["paragraphs"], cfg["heldout_fraction"], sm.params.seed
)
write_corpus(sm.output[0], train, held)
n_words = sum(len(p.text.split()) for p in train)
log.info("%d training paragraphs (%d words), %d held-out", len(train), n_words, len(held))
