"""The concept vocabulary of the embedding teacher: the bundled ``vocab.txt`` or a user's file.

Format: one phrase per line, ``#`` starts a comment, blank lines are ignored. An indented line is
a sub-topic of the last unindented phrase above it; a broad phrase's *group* is itself and its
sub-topics (every other phrase's group is itself alone). Duplicates keep their first place.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Vocabulary:
    """Phrases in file order and, per broad phrase, its sub-topics."""

    phrases: tuple[str, ...]
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    version: str = ""  # content hash (cache keys)

    def group(self, phrase: str) -> tuple[str, ...]:
        """The phrase and its sub-topics (a phrase outside the vocabulary is its own group)."""
        return (phrase, *self.children.get(phrase, ()))

    def with_phrases(self, extra: Iterable[str]) -> Vocabulary:
        """This vocabulary plus top-level phrases it lacks (e.g. the probe set's domain names)."""
        new = [p for p in dict.fromkeys(" ".join(e.split()) for e in extra) if p]
        new = [p for p in new if p not in self.phrases]
        if not new:
            return self
        version = hashlib.sha256((self.version + "\n" + "\n".join(new)).encode()).hexdigest()
        return Vocabulary((*self.phrases, *new), self.children, version[:12])


def parse_vocabulary(text: str, source: str = "vocabulary") -> Vocabulary:
    """A `Vocabulary` from the file format above; ``source`` names the file in errors."""
    phrases: dict[str, None] = {}
    children: dict[str, list[str]] = {}
    parent: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0]
        phrase = " ".join(body.split())
        if not phrase:
            continue
        if body[:1].isspace():
            if parent is None:
                raise ValueError(f"{source}:{lineno}: indented phrase {phrase!r} has no parent")
            if phrase != parent and phrase not in children[parent]:
                children[parent].append(phrase)
        else:
            parent = phrase
            children.setdefault(parent, [])
        phrases.setdefault(phrase, None)
    if not phrases:
        raise ValueError(f"{source}: the vocabulary has no phrase")
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    kids = {p: tuple(c) for p, c in children.items() if c}
    return Vocabulary(tuple(phrases), kids, version)


@cache
def vocabulary_text() -> str:
    """The raw bundled vocabulary file."""
    return resources.files("emergence.autointerp").joinpath("vocab.txt").read_text()


def bundled_vocabulary() -> Vocabulary:
    """The bundled vocabulary."""
    return parse_vocabulary(vocabulary_text(), "vocab.txt (bundled)")


def read_vocabulary(path: str | os.PathLike[str] | None) -> Vocabulary:
    """A user's vocabulary file, or the bundled one when ``path`` is None."""
    if path is None:
        return bundled_vocabulary()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"teacher.vocabulary: cannot read {path}: {exc}") from exc
    return parse_vocabulary(text, str(path))


def load_vocabulary() -> tuple[str, ...]:
    """The bundled phrases, in file order."""
    return bundled_vocabulary().phrases


def vocabulary_version() -> str:
    """Short content hash of the bundled vocabulary file."""
    return bundled_vocabulary().version
