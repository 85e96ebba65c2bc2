"""Provenance recorded in every artifact: what produced it, from what, with which settings."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from emergence import __version__


def config_hash(subset: Any) -> str:
    """A short, stable hash of a JSON-serialisable config subset (key order does not matter)."""
    blob = json.dumps(subset, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


@cache
def code_version() -> str:
    """The package version, plus the git commit (and ``-dirty``) when run from a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'-dirty' if dirty else ''}"


def provenance(*, stage: str, config_subset: Any, seed: int | None = None, **extra: Any) -> dict:
    """The provenance record of one artifact: stage, code version, config hash, seed and extras."""
    record: dict[str, Any] = {
        "stage": stage,
        "code_version": code_version(),
        "config_hash": config_hash(config_subset),
        "seed": seed,
        "host": socket.gethostname(),
        # Which scheduler job made the artifact, when one did: ties it to the cluster's logs.
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    record.update(extra)
    return record
