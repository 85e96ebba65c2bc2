"""Topic-coherent training paragraphs for the micro models.

Domain information at a text's final token is only worth a model's capacity when it predicts what
follows, so the training text is made of documents that stay on one topic: each paragraph draws
several sentences of one domain (hand-written sentences, and the domain's terms slotted into
generic frames). Paragraphs of different domains are shuffled. A seeded share of each domain's
sentences is held out to measure generalisation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from emergence.atomic import write_text
from emergence.corpus import Domain

# Generic frames: the same words across domains, so only the slotted terms and the domain name
# carry the topic and the model has to track it to predict them.
FRAMES: tuple[str, ...] = (
    "In {name}, {a} is closely related to {b}.",
    "A basic idea of {name} is {a}.",
    "Students of {name} learn about {a} before they study {b}.",
    "The relation between {a} and {b} is a classic topic.",
    "Many introductions explain {a} with the help of {b}.",
    "Experts often compare {a} with {b} and {c}.",
    "Questions about {a} also involve {b}.",
    "To understand {a}, one must first understand {b}.",
    "{A} and {b} appear together in many problems.",
    "The chapter on {a} ends with a discussion of {b}.",
    "Work on {a} changed how people think about {b}.",
    "A course in {name} covers {a}, {b} and {c}.",
    "The concept of {a} is central to {name}.",
    "An example of {a} helps to explain {b}.",
    "Later sections return to {a} and its link to {c}.",
    "Few topics in {name} are as important as {a}.",
)

# Questions in the same spirit, each answered by a sentence that opens with the domain's name.
# Probe texts are questions, and a model keeps the topic in its state at the final "?" only if
# that helps to predict the very next token: here, the name that opens the answer. (Answers that
# open with a domain term also work, but the signal is spread over hundreds of terms and tiny
# models pick it up several times slower.)
QUESTION_FRAMES: tuple[str, ...] = (
    "What is the link between {a} and {b}?",
    "How does {a} affect {b}?",
    "Why is {a} important?",
    "Which idea explains {a}?",
    "What role does {a} play here?",
    "How is {a} related to {b} and {c}?",
    "When do scholars use {a}?",
    "What distinguishes {a} from {b}?",
    "Which example best illustrates {a}?",
    "What follows from {a}?",
)
# Hand-written statements turned into questions: the probes are natural questions, so the step
# from their varied vocabulary to the topic at the final "?" must be learnt from natural text too,
# not only from frames filled with terms.
QUESTION_WRAPS: tuple[str, ...] = (
    "Is it true that {s}?",
    "Why is it that {s}?",
    "How do we know that {s}?",
    "What explains the fact that {s}?",
)
# Exam-style openers (the wh-words exam questions start with), written here, not taken from the
# probe questions. With ``exam_questions`` a wrapped sentence uses one of these, or becomes a
# "What is ...?" question when it is a definition ("S is P." -> "What is P?").
EXAM_WRAPS: tuple[str, ...] = (
    "Why {s}?",
    "How is it that {s}?",
    "In what way {s}?",
    "Which reason explains why {s}?",
    "What shows that {s}?",
    "When and why {s}?",
)
_DEFINITION = re.compile(r"^(?P<subject>[^,;:]{1,60}?) (?P<verb>is|are|was|were) (?P<rest>[^;]+)$")
ANSWER_FRAMES: tuple[str, ...] = (
    "{Name} answers this with {a}.",
    "{Name} explains it through {a} and {b}.",
    "{Name} links it to {a}, as every course shows.",
    "{Name} gives {a} as the usual answer.",
    "{Name} points to {a} and {b}.",
)


class Paragraph(NamedTuple):
    """One training or held-out document."""

    domain: str
    text: str


def _fill(rng: np.random.Generator, frames: tuple[str, ...], domain: Domain) -> str:
    frame = frames[rng.integers(len(frames))]
    a, b, c = (domain.terms[i] for i in rng.choice(len(domain.terms), size=3, replace=False))
    return frame.format(
        name=domain.name, Name=domain.name.capitalize(), a=a, b=b, c=c, A=a[:1].upper() + a[1:]
    )


def _frame_sentence(rng: np.random.Generator, domain: Domain, question_share: float) -> str:
    if rng.random() < question_share:
        return f"{_fill(rng, QUESTION_FRAMES, domain)} {_fill(rng, ANSWER_FRAMES, domain)}"
    return _fill(rng, FRAMES, domain)


def _as_question(rng: np.random.Generator, sentence: str, exam: bool) -> str:
    body = sentence.rstrip(" .!")
    body = body[:1].lower() + body[1:] if body[1:2].islower() else body
    if not exam:
        return QUESTION_WRAPS[rng.integers(len(QUESTION_WRAPS))].format(s=body)
    definition = _DEFINITION.match(body)
    if definition is not None and rng.random() < 0.5:
        verb = "is" if definition["verb"] in ("is", "was") else "are"
        return f"What {verb} {definition['rest']}?"
    return EXAM_WRAPS[rng.integers(len(EXAM_WRAPS))].format(s=body)


def _natural_sentence(
    rng: np.random.Generator, sentence: str, domain: Domain, question_share: float, exam: bool
) -> str:
    if rng.random() >= question_share:
        return sentence
    return f"{_as_question(rng, sentence, exam)} {_fill(rng, ANSWER_FRAMES, domain)}"


def _maybe_splice(rng: np.random.Generator, pool: list[str], i: int, share: float) -> str:
    if share <= 0 or rng.random() >= share:
        return pool[i]
    head = pool[i].rstrip(" .!").split()
    tail = pool[rng.integers(len(pool))].rstrip(" .!").split()
    if len(head) < 4 or len(tail) < 4:
        return pool[i]
    cut_head = int(rng.integers(2, len(head) - 1))
    cut_tail = int(rng.integers(2, len(tail) - 1))
    return " ".join(head[:cut_head] + tail[cut_tail:]) + "."


def split_sentences(
    domains: dict[str, Domain], heldout_fraction: float, seed: int
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per domain, the training sentences and the held-out ones (seeded, disjoint)."""
    train: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}
    for index, (key, domain) in enumerate(sorted(domains.items())):
        order = np.random.default_rng([seed, index]).permutation(len(domain.sentences))
        n_held = max(1, round(len(order) * heldout_fraction))
        held[key] = [domain.sentences[i] for i in order[:n_held]]
        train[key] = [domain.sentences[i] for i in order[n_held:]]
    return train, held


def make_paragraphs(
    domains: dict[str, Domain],
    pools: dict[str, list[str]],
    n_paragraphs: int,
    seed: int,
    sentences_per_paragraph: tuple[int, int] = (3, 8),
    frame_share: float = 0.4,
    question_share: float = 0.8,
    exam_questions: bool = True,
    single_question_share: float = 0.0,
    splice_share: float = 0.6,
) -> list[Paragraph]:
    """``n_paragraphs`` one-domain paragraphs drawing from ``pools`` (domain -> sentences).

    A ``frame_share`` of sentences are generic frames filled with the domain's terms, the rest
    the pool's own sentences; a ``question_share`` of either kind are questions, each followed
    by an answer that opens with the domain's name. A ``single_question_share`` of documents
    are one question and its answer alone: a probe is a question with no context before it,
    and inside a paragraph the earlier sentences already give the answer's domain away. A
    ``splice_share`` of hand-written sentences are spliced: the first part of one sentence of the
    domain joined to the last part of another, so that the model cannot answer a question by
    recalling the sentence and has to use the topic of its words.

    The defaults are the measured best for the demo (benchmarks/RESULTS.md, "Micro models": a
    logistic probe on micro-l's last layer at step 1000): exam phrasing with 40 % frames and 80 %
    questions 0.71 (main's 80 % frames, 50 % questions, plain wraps: 0.65), plus 60 % spliced
    sentences 0.73 (100 %: 0.69); standalone questions lowered it (0.62 at half the documents).
    """
    rng = np.random.default_rng(seed)
    keys = sorted(pools)
    out: list[Paragraph] = []
    for _ in range(n_paragraphs):
        key = keys[rng.integers(len(keys))]
        pool = pools[key]
        n = int(rng.integers(sentences_per_paragraph[0], sentences_per_paragraph[1] + 1))
        asks = question_share
        if single_question_share > 0 and rng.random() < single_question_share:
            n, asks = 1, 1.0
        picks = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
        sentences = [
            _frame_sentence(rng, domains[key], asks)
            if rng.random() < frame_share
            else _natural_sentence(
                rng, _maybe_splice(rng, pool, i, splice_share), domains[key], asks, exam_questions
            )
            for i in picks
        ]
        out.append(Paragraph(key, " ".join(sentences)))
    return out


def build_corpus(
    domains: dict[str, Domain],
    n_paragraphs: int,
    heldout_fraction: float,
    seed: int,
    **shape: Any,
) -> tuple[list[Paragraph], list[Paragraph]]:
    """Training paragraphs and held-out paragraphs (from held-out sentences only).

    ``shape`` passes make_paragraphs' keyword arguments for the training paragraphs.
    """
    train_pool, held_pool = split_sentences(domains, heldout_fraction, seed)
    train = make_paragraphs(domains, train_pool, n_paragraphs, seed, **shape)
    n_held = max(len(domains), n_paragraphs // 20)
    # Held-out text is the held-out sentences as written (no frames, no splices), so the held-out
    # loss measures generalisation to real sentences.
    held = make_paragraphs(domains, held_pool, n_held, seed + 1, frame_share=0.0, splice_share=0.0)
    return train, held


def write_corpus(path: str | Path, train: list[Paragraph], heldout: list[Paragraph]) -> None:
    """Save both parts as JSON lines (split, domain, text), atomically."""
    lines = [json.dumps({"split": "train", **p._asdict()}) for p in train]
    lines += [json.dumps({"split": "heldout", **p._asdict()}) for p in heldout]
    write_text(path, "\n".join(lines) + "\n")


def read_corpus(path: str | Path) -> tuple[list[Paragraph], list[Paragraph]]:
    """The training and held-out paragraphs written by ``write_corpus``."""
    parts: dict[str, list[Paragraph]] = {"train": [], "heldout": []}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        try:
            row = json.loads(line)
            parts[row["split"]].append(Paragraph(row["domain"], row["text"]))
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}:{number}: not a corpus line ({exc})") from exc
    return parts["train"], parts["heldout"]
