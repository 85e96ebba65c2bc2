"""Everything that may touch the network: pre-fetching model revisions and datasets.

Compute nodes of many clusters have no internet, so the workflow fetches every model revision
and dataset on the login node first (the ``prefetch`` target) and later stages read them offline.
A fetch that needs the network and has none fails with a message naming the pre-fetch command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

from emergence.revisions import list_branches, resolve_revision
from emergence.samples import map_labels

PREFETCH_HINT = (
    "run the pre-fetch step on a machine with internet access first "
    "(e.g. the login node): snakemake prefetch --cores 4 --configfile <your config>"
)

# Weights, configs and tokenizer files; optimizer states and other formats are never needed.
MODEL_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model"]


class OfflineError(RuntimeError):
    """A model or dataset is needed from the network but the network or the cache lacks it."""


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in {"1", "true", "yes"}


def prefetch_model(repo: str, revision: str, cache_dir: str | None) -> dict[str, Any]:
    """Download ``repo`` at ``revision`` into the HF cache; return where it landed and the
    branch it resolved (``revision`` may be a ``*`` pattern, see `emergence.revisions`).

    Pythia's intermediate revisions often ship only ``pytorch_model.bin``: it is fetched only
    when the revision has no safetensors file.
    """
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        if _offline():
            raise LocalEntryNotFoundError("HF_HUB_OFFLINE is set")
        # The listing both checks the revision (a clear error naming the closest branches) and
        # resolves a "*" pattern such as OLMo-2's stage1-step{N}-tokens*B.
        revision = resolve_revision(repo, revision, list_branches(repo))
        files = HfApi().list_repo_files(repo, revision=revision)
        patterns = list(MODEL_PATTERNS)
        if not any(f.endswith(".safetensors") for f in files):
            patterns.append("*.bin")
        path = snapshot_download(
            repo, revision=revision, cache_dir=cache_dir, allow_patterns=patterns
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise OfflineError(
            f"cannot download {repo} at revision {revision} into cache {cache_dir or 'HF default'}"
            f": {exc}. Pre-fetching needs internet access to the Hugging Face Hub; " + PREFETCH_HINT
        ) from exc
    return {"repo": repo, "revision": revision, "path": str(path)}


def cached_model_path(repo: str, revision: str, cache_dir: str | None) -> Path:
    """The local snapshot of ``repo`` at ``revision``; never touches the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(repo, revision=revision, cache_dir=cache_dir, local_files_only=True)
        )
    except (LocalEntryNotFoundError, OSError) as exc:
        raise OfflineError(
            f"{repo} at revision {revision} is not in the cache {cache_dir or 'HF default'}; "
            + PREFETCH_HINT
        ) from exc


def fetch_dataset(spec: dict[str, Any], cache_dir: str | None) -> pl.DataFrame:
    """Read one ``samples.hf`` entry through ``datasets`` and map it to (domain, text).

    ``spec['dataset']`` is a Hub id (MMLU: ``cais/mmlu``, MMLU-Pro: ``TIGER-Lab/MMLU-Pro``) or a
    local dataset directory in the same schema.
    """
    import datasets

    name = spec["dataset"]
    try:
        ds = datasets.load_dataset(
            name,
            spec.get("config"),
            split=spec["split"],
            revision=spec.get("revision"),
            cache_dir=cache_dir,
        )
    except (ConnectionError, OSError) as exc:
        raise OfflineError(
            f"cannot load dataset {name} (split {spec['split']}): {exc}. Reading a Hub dataset "
            "needs internet access; " + PREFETCH_HINT
        ) from exc
    columns = [c for c in (spec["label_column"], spec["text_column"]) if c in ds.column_names]
    frame = pl.from_arrow(ds.select_columns(columns).data.table)
    assert isinstance(frame, pl.DataFrame)
    return map_labels(frame, spec["label_column"], spec["text_column"], spec["domains"], name)


def fetch_datasets(specs: list[dict[str, Any]], cache_dir: str | None) -> pl.DataFrame:
    """All ``samples.hf`` datasets as one (domain, text, dataset) table."""
    frames = [
        fetch_dataset(spec, cache_dir).with_columns(pl.lit(spec["dataset"]).alias("dataset"))
        for spec in specs
    ]
    return pl.concat(frames)
