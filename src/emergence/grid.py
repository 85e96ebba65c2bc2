"""The analysis grid: which (scale, checkpoint, layer) points a configuration asks for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emergence.config import ConfigError
from emergence.revisions import DEFAULT_TEMPLATE, is_pattern, revision_spec


@dataclass(frozen=True)
class Scale:
    """One model scale of the grid, with everything resolved from the config."""

    name: str
    """Key of the scale in ``models`` (the ``{scale}`` wildcard)."""
    source: str
    """``micro``, ``hf`` or ``local``."""
    num_layers: int
    """Transformer blocks; layer indices run 0 (embedding output) .. num_layers."""
    steps: tuple[int, ...]
    """Training steps to analyse, ascending."""
    layers: tuple[int, ...]
    """Layers to extract, ascending."""
    spec: dict[str, Any]
    """The model's config entry as given (for a seed run: with ``{seed}`` filled in)."""
    family: str | None = None
    """For one seed of a model trained with several: the ``models`` key they share."""
    seed: int | None = None
    """For one seed of a model trained with several: its training seed."""

    @property
    def ckpts(self) -> tuple[str, ...]:
        """Checkpoint names as used in paths: ``step{N}``."""
        return tuple(f"step{s}" for s in self.steps)

    @property
    def one_job_per_model(self) -> bool:
        """Whether each per-scale stage (SAE, AutoInterp, matching, concepts) runs one job for
        all checkpoints rather than one per checkpoint: for micro models, whose jobs would spend
        most of their time starting (imports) rather than working."""
        return self.source == "micro"

    @property
    def n_point_jobs(self) -> int:
        """Jobs of each per-scale stage for this scale (see `one_job_per_model`)."""
        return 1 if self.one_job_per_model else len(self.ckpts)

    def local_path(self, step: int) -> Path:
        """The directory of a ``local`` model at ``step``."""
        return Path(str(self.spec["path"]).replace("{step}", str(step)))

    def revision(self, ckpt: str) -> str | None:
        """The revision of ``ckpt``: a Hub branch from the model's ``revision`` template and
        ``revisions`` map (a ``*`` pattern until pre-fetch resolves it, see `emergence.revisions`),
        the micro suite's checkpoint folder, or None for a local folder (it has no revision)."""
        if self.source == "hf":
            template = self.spec.get("revision", DEFAULT_TEMPLATE)
            return revision_spec(parse_step(ckpt), template, self.spec.get("revisions"))
        return None if self.source == "local" else ckpt

    def model_location(
        self,
        ckpt: str,
        micro_suite: str | Path | None = None,
        cache_dir: str | None = None,
        revision: str | None = None,
    ) -> Path:
        """The folder the weights of ``ckpt`` load from, for every model source.

        ``micro_suite`` is the folder the micro suite of this scale was trained into (source
        ``micro``); ``cache_dir`` the Hugging Face cache that pre-fetch filled and ``revision``
        the branch it resolved (source ``hf``; default `revision`). Nothing is downloaded: a
        revision missing from the cache is an error naming the pre-fetch command.
        """
        if self.source == "micro":
            if micro_suite is None:
                raise ValueError(f"{self.name}: a micro model needs the folder of its suite")
            return Path(micro_suite) / ckpt
        if self.source == "hf":
            revision = revision or self.revision(ckpt)
            assert revision is not None
            if is_pattern(revision):
                raise ValueError(
                    f"{self.name} {ckpt}: revision pattern {revision!r} is resolved by pre-fetch; "
                    "pass the resolved branch"
                )
            # Imported here: the workflow parses this module in every job, huggingface_hub is slow.
            from emergence.hub import cached_model_path

            return Path(cached_model_path(self.spec["repo"], revision, cache_dir))
        return self.local_path(parse_step(ckpt))


def _local_num_layers(name: str, spec: dict[str, Any], step: int) -> int:
    path = Path(str(spec["path"]).replace("{step}", str(step))) / "config.json"
    try:
        return int(json.loads(path.read_text())["num_hidden_layers"])
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError(
            f"models.{name}: cannot read num_hidden_layers from {path} ({exc}); "
            f"set 'models.{name}.num_layers'"
        ) from exc


def _seed_runs(name: str, spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], int | None]]:
    """A model with ``seeds`` becomes one scale per seed, ``{name}-seed{seed}``, whose repo or
    path has ``{seed}`` filled in; any other model is one run."""
    if "seeds" not in spec:
        return [(name, spec, None)]
    runs = []
    for seed in spec["seeds"]:
        run = {k: v for k, v in spec.items() if k != "seeds"}
        for key in ("repo", "path"):
            if key in run:
                run[key] = str(run[key]).replace("{seed}", str(seed))
        runs.append((f"{name}-seed{seed}", run, int(seed)))
    return runs


def scales(config: dict[str, Any]) -> dict[str, Scale]:
    """Resolve every model of a validated config into a Scale (one per seed of a seeded model)."""
    out: dict[str, Scale] = {}
    for family, family_spec in config["models"].items():
        for name, spec, seed in _seed_runs(family, family_spec):
            out[name] = _scale(config, name, spec, family if seed is not None else None, seed)
    return out


def seed_runs(grid: dict[str, Scale]) -> dict[str, tuple[str, int | None]]:
    """scale -> (family, seed): the seed axis of the grid (family = the scale, seed None, for a
    model trained once)."""
    return {name: (s.family or name, s.seed) for name, s in grid.items()}


def first_runs(grid: dict[str, Scale]) -> list[str]:
    """Every model once: a model trained once, and the lowest seed of a seeded family.

    These are the runs the time, space, scale and per-run figures draw; the spread over a
    family's seeds has its own table and figure.
    """
    lowest: dict[str, str] = {}
    for name, scale in grid.items():
        family = scale.family or name
        if family not in lowest or (scale.seed or 0) < (grid[lowest[family]].seed or 0):
            lowest[family] = name
    return [name for name in grid if name in lowest.values()]


def _scale(
    config: dict[str, Any], name: str, spec: dict[str, Any], family: str | None, seed: int | None
) -> Scale:
    steps = tuple(sorted(set(spec.get("checkpoints", config["checkpoints"]))))
    if "num_layers" in spec:
        num_layers = int(spec["num_layers"])
    else:
        num_layers = _local_num_layers(name, spec, steps[0])
    layers = spec.get("layers", config["extraction"]["layers"])
    layer_ids = tuple(range(num_layers + 1)) if layers == "all" else tuple(sorted(set(layers)))
    return Scale(name, spec["source"], num_layers, steps, layer_ids, dict(spec), family, seed)


def checkpoint_layers(
    ckpts: Sequence[str], files: Sequence[str], layers: Sequence[int]
) -> list[tuple[str, str, int]]:
    """(checkpoint, its file, layer) for every layer of every checkpoint, checkpoint-major: the
    order in which the workflow lists the per-layer files of a job that covers several
    checkpoints (``files``: one per checkpoint, e.g. its activations)."""
    if len(ckpts) != len(files):
        raise ValueError(f"{len(ckpts)} checkpoints but {len(files)} files: {list(files)}")
    return [
        (ckpt, path, layer) for ckpt, path in zip(ckpts, files, strict=True) for layer in layers
    ]


def parse_step(ckpt: str) -> int:
    """``step1000`` -> 1000."""
    if not ckpt.startswith("step") or not ckpt[4:].isdigit():
        raise ValueError(f"checkpoint name {ckpt!r} is not of the form step<N>")
    return int(ckpt[4:])
