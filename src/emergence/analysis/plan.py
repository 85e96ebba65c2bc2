"""Which artifacts the analysis of one (scale, checkpoint) reads, at the workflow's paths.

Torch-free on purpose: the workflow imports it whenever it is parsed (every SLURM job parses it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from emergence.analysis.config import AnalysisConfig
from emergence.grid import Scale


@dataclass(frozen=True)
class ArtifactPaths:
    """The workflow's path patterns of what the analysis reads (rules/common.smk declares them):
    ``{scale}``, ``{ckpt}`` and ``{layer}`` are filled in here."""

    samples: str
    activations: str  # {scale}, {ckpt}
    sae: str  # {scale}, {ckpt}, {layer}
    matches: str  # {scale}, {ckpt}, {layer}
    labels: str  # {scale}, {ckpt}, {layer}


@dataclass(frozen=True)
class PointFiles:
    """The artifacts of one grid point that the analysis reads."""

    sae: str
    matches: str
    labels: str


@dataclass(frozen=True)
class CheckpointInputs:
    """Everything one (scale, ckpt) analysis reads; the workflow fills it from its inputs."""

    scale: str
    ckpt: str
    activations: str  # this checkpoint's activation file
    samples: str  # the samples table
    points: dict[int, PointFiles]  # layer -> this checkpoint's artifacts
    time_ref: dict[int, PointFiles]  # layer -> the final checkpoint's artifacts
    space_layer: int  # the reference layer (a key of `points`)
    ref_scale: str  # the scale axis' reference model
    ref_activations: str  # its activation file at this checkpoint
    # layer -> (reference layer, the reference model's artifacts there); empty = no scale axis
    scale_ref: dict[int, tuple[int, PointFiles]] = field(default_factory=dict)


def _point(paths: ArtifactPaths, scale: str, ckpt: str, layer: int) -> PointFiles:
    where = {"scale": scale, "ckpt": ckpt, "layer": layer}
    return PointFiles(
        paths.sae.format(**where), paths.matches.format(**where), paths.labels.format(**where)
    )


def _nearest(layers: tuple[int, ...], target: float) -> int:
    return min(layers, key=lambda layer: (abs(layer - target), layer))


def reference_scale(scales: Mapping[str, Scale], cfg: AnalysisConfig) -> str:
    """The scale axis' reference model: the configured one, else the last model listed."""
    name = cfg.reference_scale or list(scales)[-1]
    if name not in scales:
        raise ValueError(f"analysis.reference_scale {name!r} is not a key of models")
    return name


def checkpoint_inputs(
    scales: Mapping[str, Scale], cfg: AnalysisConfig, scale: str, ckpt: str, paths: ArtifactPaths
) -> CheckpointInputs:
    """Which artifacts the analysis of (scale, ckpt) reads, at the workflow's ``paths``."""
    me = scales[scale]
    ref_name = reference_scale(scales, cfg)
    ref = scales[ref_name]
    final = me.ckpts[-1]
    scale_ref: dict[int, tuple[int, PointFiles]] = {}
    if ckpt in ref.ckpts:
        for layer in me.layers:
            # Same relative depth: layer l of L blocks faces layer l * L_ref / L of the reference.
            ref_layer = _nearest(ref.layers, layer * ref.num_layers / max(me.num_layers, 1))
            scale_ref[layer] = (ref_layer, _point(paths, ref_name, ckpt, ref_layer))
    return CheckpointInputs(
        scale=scale,
        ckpt=ckpt,
        activations=paths.activations.format(scale=scale, ckpt=ckpt),
        samples=paths.samples,
        points={layer: _point(paths, scale, ckpt, layer) for layer in me.layers},
        time_ref={layer: _point(paths, scale, final, layer) for layer in me.layers},
        space_layer=_nearest(me.layers, cfg.reference_layer),
        ref_scale=ref_name,
        ref_activations=paths.activations.format(scale=ref_name, ckpt=ckpt),
        scale_ref=scale_ref,
    )


def input_files(inputs: CheckpointInputs) -> list[str]:
    """Every file `analyse_checkpoint` reads, once each (the workflow's input list)."""
    points = [*inputs.points.values(), *inputs.time_ref.values()]
    points += [files for _, files in inputs.scale_ref.values()]
    files = [inputs.activations, inputs.samples]
    if inputs.scale_ref:
        files.append(inputs.ref_activations)
    files += [path for p in points for path in (p.sae, p.matches, p.labels)]
    return list(dict.fromkeys(files))
