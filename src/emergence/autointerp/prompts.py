"""Prompt templates (files under ``prompts/``), the chat messages built from them, and parsing.

A template's version is the first 12 hex digits of the sha256 of its file content: editing a
template changes the version, hence every cache key built with it, so old answers are never
served for a new prompt. A template file holds the system message, a line ``=== user ===`` and
the user message; ``{name}`` placeholders are substituted in one pass, so braces in probe texts
and labels are harmless.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

USER_MARKER = "=== user ==="

# JSON schemas of the structured outputs; sent to backends that support constrained decoding.
LABEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"label": {"type": "string", "maxLength": 80}},
    "required": ["label"],
    "additionalProperties": False,
}
# Labels longer than this many words are rejected as "not a short label".
MAX_LABEL_WORDS = 8


def verify_schema(n: int) -> dict[str, Any]:
    """The schema of a verification answer for ``n`` texts (exactly ``n`` booleans)."""
    return {
        "type": "object",
        "properties": {
            "answers": {"type": "array", "items": {"type": "boolean"}, "minItems": n, "maxItems": n}
        },
        "required": ["answers"],
        "additionalProperties": False,
    }


class Template(NamedTuple):
    """One prompt template."""

    name: str  # file stem, e.g. "label"
    system: str  # system message
    user: str  # user message with {placeholders}
    version: str  # short content hash of the file


@cache
def load_template(name: str) -> Template:
    """The bundled template ``prompts/{name}.txt``."""
    text = resources.files("emergence.autointerp").joinpath(f"prompts/{name}.txt").read_text()
    if USER_MARKER not in text:
        raise ValueError(f"prompt template {name!r} lacks the line {USER_MARKER!r}")
    system, user = text.split(USER_MARKER, 1)
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return Template(name, system.strip(), user.strip(), version)


def prompt_version() -> str:
    """The version of the whole prompt set, recorded with every label."""
    return f"label-{load_template('label').version}+verify-{load_template('verify').version}"


def _numbered(texts: list[str]) -> str:
    # One line per text: newlines inside a text would blur where texts end.
    return "\n".join(f"{i}. {' '.join(t.split())}" for i, t in enumerate(texts, 1))


PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _messages(template: Template, **values: str) -> list[dict[str, str]]:
    # One pass, so a placeholder-like string inside a label or text is never substituted again;
    # JSON braces in the template ({"label": ...}) do not match \{word\}.
    user = PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template.user)
    return [{"role": "system", "content": template.system}, {"role": "user", "content": user}]


def label_messages(examples: list[str], contrast: list[str]) -> list[dict[str, str]]:
    """Chat messages asking for a label of a latent firing on ``examples``."""
    return _messages(
        load_template("label"),
        examples=_numbered(examples),
        contrast=_numbered(contrast) if contrast else "(none available)",
    )


def verify_messages(label: str, texts: list[str]) -> list[dict[str, str]]:
    """Chat messages asking whether ``label`` applies to each of ``texts``."""
    return _messages(
        load_template("verify"), label=label, texts=_numbered(texts), n=str(len(texts))
    )


class ParsedLabel(NamedTuple):
    """A label parsed from a teacher's output."""

    label: str | None  # the cleaned label, or None
    error: str | None  # why there is no label


def _json_object(text: str) -> Any:
    text = text.strip()
    # Models without constrained decoding like to wrap JSON in a markdown fence.
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    return json.loads(text)


def parse_label(text: str) -> ParsedLabel:
    """``{"label": "..."}`` -> the label; anything else is a failure with its reason."""
    try:
        obj = _json_object(text)
    except ValueError:
        return ParsedLabel(None, f"unparseable label output: {text[:200]!r}")
    raw = obj.get("label") if isinstance(obj, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        return ParsedLabel(None, f"label output without a non-empty 'label' string: {text[:200]!r}")
    label = " ".join(raw.split()).strip(" .\"'")
    if not label or len(label.split()) > MAX_LABEL_WORDS:
        return ParsedLabel(None, f"label is not a short phrase: {raw[:200]!r}")
    return ParsedLabel(label, None)


def parse_verify(text: str, n: int) -> list[bool | None]:
    """``{"answers": [bools]}`` with exactly ``n`` entries -> the answers; else ``n`` Nones."""
    try:
        obj = _json_object(text)
    except ValueError:
        return [None] * n
    answers = obj.get("answers") if isinstance(obj, dict) else None
    if not isinstance(answers, list) or len(answers) != n:
        return [None] * n
    # A partly valid list is still a broken answer: its positions may be shifted.
    if not all(isinstance(a, bool) for a in answers):
        return [None] * n
    return list(answers)
