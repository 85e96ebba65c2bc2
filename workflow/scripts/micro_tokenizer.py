"""Adaptor: train the micro suite's BPE tokenizer on the training paragraphs."""

import shutil
from pathlib import Path

from emergence.logs import setup_logging
from emergence.micro.text import read_corpus
from emergence.micro.tokenizer import save_tokenizer, train_tokenizer

sm = snakemake  # type: ignore[name-defined]  # noqa: F821
log = setup_logging(sm.log[0])
train, _ = read_corpus(sm.input[0])
tokenizer = train_tokenizer((p.text for p in train), sm.params.vocab_size)
out = Path(sm.output[0])
tmp = out.with_name(out.name + ".tmp")
shutil.rmtree(tmp, ignore_errors=True)
save_tokenizer(tokenizer, tmp)
tmp.rename(out)
log.info("tokenizer with %d tokens -> %s", len(tokenizer), out)
