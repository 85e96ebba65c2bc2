"""What the model holds and what the instrument keeps of it: ceilings and the loss decomposition.

The measured stages (SAE, labelling, verification, matching) never see a text's domain. The
probe texts carry it, though, so every run can measure how much of the domain information in
the activations each stage keeps, on the same fit / eval split as the measurement:

- ``probe``: a linear probe of the domain (logistic regression on standardised activations, fit
  on the fit rows) predicts each eval text's domain: the linear ceiling of the layer;
- ``sae_purity``: each eval text is assigned the majority *fit* domain of its top SAE latent;
- ``labelled``: the domains its top latent's label names (`emergence.matching.names_domain`),
  whether or not the label passed verification;
- ``verified``: as ``labelled``, for interpretable latents only;
- the protocols (``per_point``, ``ref_time``, ``ref_space``, ``ref_scale``): the domains its top
  latent is matched to, i.e. what is reported (``per_point`` is the last stage of the chain).

Ground truth enters only here, to score these assignments; the probe and the majority domains
are fitted on fit rows and scored on eval rows. Each stage is summarised by the same numbers as
the activation table (hit %, false-alarm %, their difference), averaged over domains, plus the
share of eval texts that are hits (the probe's accuracy, the SAE's purity) and the macro-F1.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from emergence.analysis.activation import selectivity
from emergence.analysis.keys import POINT_KEYS
from emergence.matching import names_domain

STAGES = ("probe", "sae_purity", "labelled", "verified", "per_point")
"""The decomposition, from what the activations hold to what is reported (per-point protocol)."""

CEILINGS_SCHEMA: dict[str, Any] = {
    **POINT_KEYS,
    "stage": pl.String,
    "n": pl.Int64,
    "n_hit": pl.Int64,
    "accuracy": pl.Float64,
    "pct": pl.Float64,
    "false_alarm_pct": pl.Float64,
    "adjusted_pct": pl.Float64,
    "macro_f1": pl.Float64,
}
"""Columns of the ceilings table: one row per (grid point, stage or protocol).

``n`` eval texts, ``n_hit`` of them assigned their own domain, ``accuracy`` = 100 n_hit / n;
``pct``, ``false_alarm_pct`` and ``adjusted_pct`` are the activation table's per-domain values
averaged over the domains with eval texts; ``macro_f1`` the mean over those domains of the F1 of
"assigned d" against "is d" (0 for a domain never assigned).
"""

# Fixed, never tuned on the ground truth they are scored against: sklearn's default L2 strength,
# and enough lbfgs iterations for standardised features of a few hundred dimensions.
PROBE_C = 1.0
PROBE_MAX_ITER = 1000


def probe_predictions(
    x_fit_ND: np.ndarray, domain_fit_N: np.ndarray, x_eval_ND: np.ndarray, *, seed: int = 0
) -> np.ndarray:
    """The domain a linear probe fit on (x_fit, domain_fit) predicts for each eval row.

    Features are standardised on the fit rows (a constant feature stays 0). A fit set with a
    single domain predicts that domain everywhere (logistic regression needs two classes).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    domain_fit_N = np.asarray(domain_fit_N).astype(str)
    if len(x_fit_ND) != domain_fit_N.size or len(x_fit_ND) == 0:
        raise ValueError(
            f"probe: {len(x_fit_ND)} fit rows and {domain_fit_N.size} domains must agree and be > 0"
        )
    classes = np.unique(domain_fit_N)
    if classes.size == 1:
        return np.full(len(x_eval_ND), classes[0])
    probe = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=PROBE_C, max_iter=PROBE_MAX_ITER, random_state=seed),
    )
    with warnings.catch_warnings():
        # An unconverged probe is still a probe (a lower bound on the ceiling); the warning would
        # repeat at every grid point of an untrained model.
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(np.asarray(x_fit_ND, dtype=np.float64), domain_fit_N)
    return probe.predict(np.asarray(x_eval_ND, dtype=np.float64))


def majority_domains(top_latent_N: np.ndarray, domain_N: np.ndarray) -> dict[int, str]:
    """latent -> the most common domain of the texts whose top latent it is.

    A latent whose most common domains tie has no majority (its texts are assigned nothing),
    and -1 (no active latent) is no latent.
    """
    top_latent_N, domain_N = np.asarray(top_latent_N), np.asarray(domain_N).astype(str)
    if top_latent_N.shape != domain_N.shape:
        raise ValueError(
            f"majority_domains: top latents {top_latent_N.shape} and domains {domain_N.shape}"
        )
    majority = {}
    for latent in np.unique(top_latent_N[top_latent_N >= 0]):
        counts = Counter(domain_N[top_latent_N == latent].tolist()).most_common(2)
        if len(counts) == 1 or counts[0][1] > counts[1][1]:
            majority[int(latent)] = counts[0][0]
    return majority


def label_domains(matches: pl.DataFrame, tau: float, rule: str) -> dict[int, set[str]]:
    """latent -> the domains its label names (`emergence.matching.names_domain`), verified or not.

    ``matches`` is a matches table (``emergence.matching.MATCH_SCHEMA``); filter it on
    ``interpretable`` first for the verified latents only.
    """
    out: dict[int, set[str]] = {}
    named = matches.filter(names_domain(tau, rule))
    for latent, domain in named.select("latent", "domain").rows():
        out.setdefault(int(latent), set()).add(str(domain))
    return out


def one_hot(predicted_N: np.ndarray, domains: Sequence[str]) -> np.ndarray:
    """bool [N, M]: text i is assigned ``domains[j]`` (an unknown prediction assigns nothing)."""
    predicted_N = np.asarray(predicted_N).astype(str)
    return predicted_N[:, None] == np.asarray([str(d) for d in domains])[None, :]


def summarise(
    claims_NM: np.ndarray, domain_N: np.ndarray, domains: Sequence[str]
) -> dict[str, float]:
    """The ceilings table's values for one assignment of domains to eval texts (``claims_NM``)."""
    claims_NM = np.asarray(claims_NM, dtype=bool)
    domain_str_N = np.asarray(domain_N).astype(str)
    # One resample is enough: only the point values are used here, not the intervals.
    rows = [r for r in selectivity(claims_NM, domain_str_N, domains, n_boot=1) if r.n > 0]
    n = sum(r.n for r in rows)
    n_hit = sum(r.n_hit for r in rows)
    f1 = []
    for r in rows:
        n_claimed = r.n_hit + r.n_false_alarm
        f1.append(2.0 * r.n_hit / (r.n + n_claimed) if r.n + n_claimed else 0.0)

    def mean(values: list[float]) -> float:
        finite = [v for v in values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else float("nan")

    return {
        "n": n,
        "n_hit": n_hit,
        "accuracy": 100.0 * n_hit / n if n else float("nan"),
        "pct": mean([r.pct for r in rows]),
        "false_alarm_pct": mean([r.false_alarm_pct for r in rows]),
        "adjusted_pct": mean([r.adjusted_pct for r in rows]),
        "macro_f1": mean(f1),
    }
