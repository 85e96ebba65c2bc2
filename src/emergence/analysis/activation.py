"""Concept activation %: the share of a domain's texts whose top latent is matched to that domain.

A text is a hit when its top-1 latent is an interpretable latent matched to the text's domain
(method §7). Per domain the hit share carries a percentile bootstrap confidence interval over
that domain's texts.

The hit share alone cannot tell a concept from a collapse: when every text lands on one latent
matched to domain d, d reads 100 %. Beside it stands the **selectivity-adjusted** activation,
the hit % on d's texts minus the false-alarm % (the share of the *other* domains' texts that land
on d's latents), a difference of a true- and a false-positive rate (Youden's J): 0 for a collapse
or for chance, equal to the hit % when no other domain's text is claimed for d.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from emergence.analysis.config import MEASURES
from emergence.analysis.keys import POINT_KEYS

# Resampled indices are drawn in blocks of at most this many, so that memory stays bounded
# however many texts a domain has.
BOOTSTRAP_BLOCK = 1 << 22

ACTIVATION_SCHEMA: dict[str, Any] = {
    **POINT_KEYS,
    "domain": pl.String,
    "protocol": pl.String,
    "n": pl.Int64,
    "n_hit": pl.Int64,
    "pct": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "false_alarm_pct": pl.Float64,
    "n_false_alarm": pl.Int64,
    "adjusted_pct": pl.Float64,
    "adjusted_ci_low": pl.Float64,
    "adjusted_ci_high": pl.Float64,
}
"""Columns of the activation table: one row per (grid point, domain, protocol)."""


def measure_columns(measure: str) -> tuple[str, str, str]:
    """The (value, CI low, CI high) columns of the activation table that draw ``measure``."""
    if measure == "pct":
        return "pct", "ci_low", "ci_high"
    if measure == "adjusted":
        return "adjusted_pct", "adjusted_ci_low", "adjusted_ci_high"
    raise ValueError(f"unknown activation measure {measure!r}: use one of {', '.join(MEASURES)}")


class ActivationRow(NamedTuple):
    """Concept activation % of one domain with its bootstrap CI (nan for a domain with no texts)."""

    domain: str
    n: int  # texts of the domain
    n_hit: int  # of which hits
    pct: float  # 100 * n_hit / n
    ci_low: float
    ci_high: float


def _domain_rng(seed: int, domain: str) -> np.random.Generator:
    # Keyed by the domain's name (CRC-32 of its UTF-8 bytes), not by its position in the table:
    # a domain's CI is then the same whichever other domains are present and in whatever order.
    return np.random.default_rng([seed, zlib.crc32(domain.encode("utf-8"))])


def _bootstrap_hit_counts(n: int, n_hit: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Hits in each of n_boot resamples (n texts drawn with replacement) of n texts, n_hit hits.

    The statistic depends only on how many drawn texts are hits, so the texts are ordered hits
    first and a drawn index i is a hit iff i < n_hit: real index resampling, without the gather.
    """
    counts_B = np.empty(n_boot, dtype=np.int64)
    per_block = max(1, BOOTSTRAP_BLOCK // n)
    for start in range(0, n_boot, per_block):
        stop = min(start + per_block, n_boot)
        idx_BN = rng.integers(0, n, size=(stop - start, n), dtype=np.int32)
        counts_B[start:stop] = (idx_BN < n_hit).sum(axis=1)
    return counts_B


def activation_pct(
    hit_N: np.ndarray,
    domain_N: np.ndarray,
    *,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    domains: Sequence[str] | None = None,
) -> list[ActivationRow]:
    """Per domain (sorted, or in the order of `domains`): hit % and its percentile bootstrap CI.

    Each domain's CI resamples that domain's texts with replacement n_boot times and takes the
    (1 - ci) / 2 and (1 + ci) / 2 quantiles (linear interpolation) of the resampled hit %. Its
    generator is seeded from (seed, the domain's name), so a domain's CI does not depend on the
    other domains. Domains of `domains` without texts get n = 0 and nan; texts of domains not in
    `domains` are ignored.
    """
    hit_N = np.asarray(hit_N, dtype=bool)
    domain_N = np.asarray(domain_N)
    if hit_N.ndim != 1 or hit_N.shape != domain_N.shape:
        raise ValueError(
            f"activation_pct: hit {hit_N.shape} and domain {domain_N.shape} must be 1-D of the "
            "same length"
        )
    if not 0 < ci < 1:
        raise ValueError(f"activation_pct: ci must be in (0, 1), got {ci}")
    if n_boot < 1:
        raise ValueError(f"activation_pct: n_boot must be >= 1, got {n_boot}")
    names = sorted({str(d) for d in domain_N}) if domains is None else [str(d) for d in domains]
    domain_str_N = domain_N.astype(str)
    quantiles = [50 * (1 - ci), 50 * (1 + ci)]
    rows = []
    for name in names:
        in_domain_N = domain_str_N == name
        n, n_hit = int(in_domain_N.sum()), int(hit_N[in_domain_N].sum())
        if n == 0:
            rows.append(ActivationRow(name, 0, 0, float("nan"), float("nan"), float("nan")))
            continue
        counts_B = _bootstrap_hit_counts(n, n_hit, n_boot, _domain_rng(seed, name))
        low, high = np.percentile(100.0 * counts_B / n, quantiles)
        rows.append(ActivationRow(name, n, n_hit, 100.0 * n_hit / n, float(low), float(high)))
    return rows


class SelectivityRow(NamedTuple):
    """Hit %, false-alarm % and their difference for one domain, with bootstrap CIs.

    Undefined values are nan: every value for a domain without texts, the false-alarm and
    adjusted values when no other domain has texts.
    """

    domain: str
    n: int  # texts of the domain
    n_hit: int  # of which claimed for the domain (hits)
    pct: float  # 100 * n_hit / n
    ci_low: float
    ci_high: float
    false_alarm_pct: float  # 100 * n_false_alarm / (other domains' texts)
    n_false_alarm: int  # other domains' texts claimed for the domain
    adjusted_pct: float  # pct - false_alarm_pct
    adjusted_ci_low: float
    adjusted_ci_high: float


def latent_claims(
    top_latent_N: np.ndarray,
    latent_domains: Mapping[int, Collection[str]],
    domains: Sequence[str],
) -> np.ndarray:
    """bool [N, M]: text i's top latent (-1: none active) is assigned domain ``domains[j]``.

    ``latent_domains`` maps a latent to the domains it stands for (e.g. the domains it is matched
    to); absent latents, unknown domains and -1 claim nothing.
    """
    top_latent_N = np.asarray(top_latent_N)
    if top_latent_N.ndim != 1:
        raise ValueError(f"latent_claims: top latents must be 1-D, got {top_latent_N.shape}")
    if top_latent_N.size and not np.issubdtype(top_latent_N.dtype, np.integer):
        raise ValueError(f"latent_claims: top latents must be integers, got {top_latent_N.dtype}")
    column_of = {str(d): j for j, d in enumerate(domains)}
    claims_NM = np.zeros((top_latent_N.size, len(column_of)), dtype=bool)
    for latent, names in latent_domains.items():
        if latent < 0:
            continue
        on_N = top_latent_N == latent
        for name in names:
            if str(name) in column_of:
                claims_NM[on_N, column_of[str(name)]] = True
    return claims_NM


def selectivity(
    claims_NM: np.ndarray,
    domain_N: np.ndarray,
    domains: Sequence[str],
    *,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> list[SelectivityRow]:
    """Per domain of ``domains`` (the columns of ``claims_NM``): hit, false-alarm and adjusted %.

    The hit % and its CI are exactly those of ``activation_pct`` on the same hits. The adjusted
    CI resamples the domain's texts and, independently, the other domains' texts (a bootstrap
    stratified by "own domain or not") from the same generator, drawn after the hits.
    """
    claims_NM = np.asarray(claims_NM, dtype=bool)
    domain_str_N = np.asarray(domain_N).astype(str)
    names = [str(d) for d in domains]
    if claims_NM.shape != (domain_str_N.size, len(names)) or domain_str_N.ndim != 1:
        raise ValueError(
            f"selectivity: claims {claims_NM.shape} must be [texts {domain_str_N.shape}, "
            f"domains {len(names)}]"
        )
    if not 0 < ci < 1:
        raise ValueError(f"selectivity: ci must be in (0, 1), got {ci}")
    if n_boot < 1:
        raise ValueError(f"selectivity: n_boot must be >= 1, got {n_boot}")
    quantiles = [50 * (1 - ci), 50 * (1 + ci)]
    nan = float("nan")
    rows = []
    for j, name in enumerate(names):
        own_N = domain_str_N == name
        n, n_other = int(own_N.sum()), int((~own_N).sum())
        n_hit = int(claims_NM[own_N, j].sum())
        n_fa = int(claims_NM[~own_N, j].sum())
        if n == 0:
            rows.append(SelectivityRow(name, 0, 0, nan, nan, nan, nan, n_fa, nan, nan, nan))
            continue
        rng = _domain_rng(seed, name)
        hit_pct_B = 100.0 * _bootstrap_hit_counts(n, n_hit, n_boot, rng) / n
        low, high = np.percentile(hit_pct_B, quantiles)
        pct = 100.0 * n_hit / n
        fa_pct = adjusted = adj_low = adj_high = nan
        if n_other:
            fa_pct = 100.0 * n_fa / n_other
            adjusted = pct - fa_pct
            fa_pct_B = 100.0 * _bootstrap_hit_counts(n_other, n_fa, n_boot, rng) / n_other
            adj_low, adj_high = np.percentile(hit_pct_B - fa_pct_B, quantiles)
        rows.append(
            SelectivityRow(
                name,
                n,
                n_hit,
                pct,
                float(low),
                float(high),
                fa_pct,
                n_fa,
                adjusted,
                float(adj_low),
                float(adj_high),
            )
        )
    return rows
