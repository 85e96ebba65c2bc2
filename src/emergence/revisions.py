"""Which repository revision (branch) holds a model's training step.

Checkpointed suites name their branches differently: Pythia and PolyPythias ``step{N}``,
SmolLM2's intermediate repositories ``step-{N}``, LLM360 Amber ``ckpt_{N:03d}``, OLMo-2
``stage1-step{N}-tokens{M}B`` (a few without the ``stage1-`` prefix), where M cannot be computed
from N. A model's ``revision`` is therefore a template of the step; a ``*`` in it matches any
text and is resolved against the repository's real branch list at pre-fetch time, the only stage
with network access. An explicit step -> revision map covers whatever a template cannot.

Torch- and network-free: the workflow imports it at parse time; the branch listing is passed in.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping, Sequence

# Pythia's branch names, the default of every Hugging Face model.
DEFAULT_TEMPLATE = "step{step}"
# The step in a branch name, for naming the closest branches when one is missing.
_STEP = re.compile(r"(?:step|ckpt)[-_]?(\d+)")


class RevisionError(ValueError):
    """A step has no branch in the repository, or several: the message names both."""


def revision_spec(step: int, template: str, revisions: Mapping[int, str] | None = None) -> str:
    """The branch name of ``step``, or a ``*`` pattern to resolve against the branch list.

    An explicit entry of ``revisions`` wins over the template.
    """
    if revisions and step in revisions:
        return revisions[step]
    try:
        return template.format(step=step)
    except (KeyError, IndexError, ValueError) as exc:
        raise RevisionError(
            f"revision template {template!r} cannot be formatted with step={step} ({exc}); "
            "use {step}, with an optional format spec such as {step:03d}"
        ) from exc


def is_pattern(spec: str) -> bool:
    """Whether ``spec`` must be resolved against the branch list (it contains ``*``)."""
    return "*" in spec


def resolve_revision(repo: str, spec: str, branches: Sequence[str]) -> str:
    """The one branch of ``repo`` that ``spec`` names (exactly, or as a ``*`` pattern).

    Raises RevisionError naming the repository and the closest branches when none matches, and
    every match when a pattern matches several.
    """
    if is_pattern(spec):
        hits = sorted(b for b in branches if fnmatch.fnmatchcase(b, spec))
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise RevisionError(
                f"{repo}: revision pattern {spec!r} matches {len(hits)} branches "
                f"({', '.join(hits[:10])}); make the template or the revisions map more specific"
            )
    elif spec in branches:
        return spec
    closest = _closest(spec, branches)
    raise RevisionError(
        f"{repo} has no branch {spec!r} ({len(branches)} branches); closest: "
        f"{', '.join(closest) or 'none'}. Check the model's checkpoints, revision template or "
        "revisions map"
    )


def _step_of(name: str) -> int | None:
    found = _STEP.search(name)
    return int(found[1]) if found else None


def _closest(spec: str, branches: Sequence[str], n: int = 5) -> list[str]:
    """The branches whose step is nearest the one ``spec`` asks for; by spelling otherwise."""
    target = _step_of(spec)
    stepped = [(abs(s - target), b) for b in branches if (s := _step_of(b)) is not None]
    if target is not None and stepped:
        return [b for _, b in sorted(stepped)[:n]]
    return difflib.get_close_matches(spec.replace("*", ""), list(branches), n=n, cutoff=0.0)


def list_branches(repo: str) -> list[str]:
    """The branch names of a Hub model repository (needs the network: pre-fetch only)."""
    from huggingface_hub import list_repo_refs

    return [ref.name for ref in list_repo_refs(repo).branches]
