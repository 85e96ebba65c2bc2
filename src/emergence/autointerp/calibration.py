"""Teacher calibration: can the configured teacher see each domain at all?

Every run labels and verifies one *oracle* latent per domain with the configured teacher, the
AutoInterp settings and the rules real latents go through: the oracle latent of domain d fires
(value 1) on exactly d's texts, so its labelling examples are d's fit texts, its contrast other
domains' fit texts, and it is verified on the eval split like any latent. Its label then goes
through the matching stage's rule (`emergence.matching.names_domain`, with the configured
matching encoder, tau and rule).

An oracle latent is the best case: a real latent about d can do no better with this teacher. A
domain whose oracle latent does not pass (not interpretable, or its label does not match d) is
one the instrument cannot report, whatever the model holds; the workflow's summary names it.
The teacher sees only what it sees for real latents (texts, never their domains).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from emergence.autointerp.config import AutoInterpConfig
from emergence.autointerp.examples import Activity
from emergence.autointerp.run import AutoInterpResult, autointerp
from emergence.autointerp.teacher import Teacher
from emergence.matching import MatchConfig, domain_phrase, match_latents, names_domain

CALIBRATION_SCHEMA: dict[str, Any] = {
    "domain": pl.String,
    "label": pl.String,
    "f1": pl.Float64,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "n_verify": pl.Int64,  # verification texts (activating and not) the label was judged on
    "matched": pl.Boolean,  # the label names the domain under the matching rule (tau, rule)
    "passed": pl.Boolean,  # interpretable by the configured rule, and matched
}


class Calibration(NamedTuple):
    """The calibration table and the AutoInterp result it came from (labels, provenance)."""

    table: pl.DataFrame  # one row per domain, columns CALIBRATION_SCHEMA
    result: AutoInterpResult  # latent i = domains[i]


def oracle_activity(samples: pl.DataFrame, split: str, domains: Sequence[str]) -> Activity:
    """k = 1 codes of perfect domain latents: a text of domain ``domains[i]`` fires latent i."""
    rows = samples.filter(pl.col("split") == split)
    index = {d: i for i, d in enumerate(domains)}
    unknown = sorted(set(rows["domain"].to_list()) - set(index))
    if unknown:
        raise ValueError(f"samples of domains {unknown} have no oracle latent")
    latent_N1 = np.array([[index[d]] for d in rows["domain"].to_list()], dtype=np.int64)
    ids_N = rows["sample_id"].to_numpy().astype(np.int64)
    return Activity(ids_N, np.ones(latent_N1.shape), latent_N1)


def calibrate(
    samples: pl.DataFrame,
    teacher: Teacher,
    cfg: AutoInterpConfig,
    embed: Callable[[Sequence[str]], np.ndarray],
    tau: float,
    rule: str = MatchConfig.rule,
) -> Calibration:
    """Label, verify and match one oracle latent per domain of ``samples``.

    ``embed`` maps phrases to unit vectors with the matching encoder; ``tau`` and ``rule`` are
    the matching settings (`emergence.matching.match_latents`).
    """
    domains = sorted(set(samples["domain"].to_list()))
    if not domains:
        raise ValueError("teacher calibration: the samples table has no domain")
    fit, eval_ = (oracle_activity(samples, split, domains) for split in ("fit", "eval"))
    result = autointerp(fit, eval_, samples, teacher, cfg)
    labels = {r["latent"]: r["label"] for r in result.labels}
    named = [x for x in labels.values() if x]
    phrases = list(dict.fromkeys([*named, *map(domain_phrase, domains)]))
    emb = dict(zip(phrases, embed(phrases), strict=True))
    verdicts = {r["latent"]: r for r in result.verification.iter_rows(named=True)}
    # Matched as for a real latent, but whether or not verification passed (that is `passed`).
    names = match_latents(result.labels, {}, domains, emb, tau, rule).filter(
        names_domain(tau, rule)
    )
    named_pairs = set(names.select("latent", "domain").rows())
    rows = []
    for i, domain in enumerate(domains):
        label = labels.get(i)
        row = verdicts.get(i)
        matched = (i, domain) in named_pairs
        n_verify = 0 if row is None else sum(row[k] for k in ("tp", "fp", "tn", "fn", "n_failed"))
        rows.append(
            {
                "domain": domain,
                "label": label,
                "f1": None if row is None else row["f1"],
                "precision": None if row is None else row["precision"],
                "recall": None if row is None else row["recall"],
                "n_verify": n_verify,
                "matched": matched,
                "passed": matched and row is not None and bool(row["interpretable"]),
            }
        )
    return Calibration(pl.DataFrame(rows, schema=CALIBRATION_SCHEMA), result)


def blind_domains(table: pl.DataFrame) -> list[str]:
    """Domains whose oracle latent did not pass: the teacher cannot see them."""
    return table.filter(~pl.col("passed"))["domain"].to_list()


def read_calibration(path: str) -> pl.DataFrame:
    """A calibration table with its column types; a damaged file names itself."""
    try:
        return pl.read_csv(path, schema=CALIBRATION_SCHEMA)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise ValueError(f"{path}: not a readable teacher calibration table ({exc})") from exc
