"""Configuration: the shipped configs are valid; bad keys fail naming the key and the file."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import yaml

from emergence.analysis.config import AnalysisConfig
from emergence.autointerp import AutoInterpConfig, OpenAIConfig, make_teacher
from emergence.config import ConfigError, load_config, read_config_file, validate_config
from emergence.config_docs import field_docs, nested, reference, sections
from emergence.grid import scales
from emergence.sae.config import SaeConfig
from emergence.sections import ModelConfig, WorkflowConfig
from emergence.settings import build, check, default_of, has_default, hints

ROOT = Path(__file__).resolve().parents[1]

DEMO = ROOT / "config" / "config.yaml"
PAPER = ROOT / "config" / "paper.yaml"
TINY = ROOT / "tests" / "data" / "tiny.yaml"


def demo() -> dict:
    return yaml.safe_load(DEMO.read_text())


def test_shipped_configs_validate_and_get_defaults():
    config = load_config(DEMO)
    assert config["micro"]["vocab_size"] == 4096
    assert config["extraction"]["layers"] == "all"
    paper = load_config(PAPER)
    grid = scales(paper)
    assert len(grid) == 10
    assert grid["pythia-12b"].layers == tuple(range(37))  # embedding + 36 blocks
    assert len(paper["checkpoints"]) == 25
    assert {0, 20000, 30000, 143000} <= set(paper["checkpoints"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["extraction"].update(batchsize=8), "unknown key 'extraction.batchsize'"),
        (lambda c: c.update(sead=1), "unknown key 'sead'"),
        (lambda c: c.pop("models"), "missing required key 'models'"),
        (lambda c: c["models"]["micro-s"].pop("hidden_size"), "'models.micro-s.hidden_size'"),
        (lambda c: c["extraction"].update(dtype="float64"), "key 'extraction.dtype'"),
        (lambda c: c["models"]["micro-s"].update(layers=[0, 9]), "key 'models.micro-s.layers'"),
        (lambda c: c.update(analysis={"reference_scale": "x"}), "'analysis.reference_scale'"),
        (lambda c: c.update(matching={"tau": 2}), "key 'matching.tau'"),
        (lambda c: c["samples"].update(source="file"), "key 'samples.path'"),
        (lambda c: c["models"]["micro-s"].update(num_heads=3), "not divisible"),
        (lambda c: c.update(teacher={"backend": "embedding", "modle": "x"}), "'teacher.modle'"),
        (lambda c: c.update(teacher={"backend": "gpt"}), "key 'teacher.backend'"),
        (lambda c: c.update(autointerp={"f1": 0.8}), "unknown key 'autointerp.f1'"),
        (lambda c: c.update(teacher={"backend": "vllm"}), "missing required key 'teacher.model'"),
    ],
)
def test_bad_keys_are_named(edit, message):
    config = demo()
    edit(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, source="my.yaml")
    assert message in str(info.value)
    assert "my.yaml" in str(info.value)


def test_several_files_merge_like_snakemake(tmp_path):
    overlay = tmp_path / "teacher.yaml"
    overlay.write_text("teacher:\n  backend: openai\n  base_url: http://node:8000/v1\n")
    config = load_config([PAPER, overlay])
    # paper.yaml's teacher model and sampling settings stay; backend and URL are replaced.
    assert config["teacher"]["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert config["teacher"]["backend"] == "openai"
    assert config["teacher"]["base_url"] == "http://node:8000/v1"


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_snakemake_rejects_a_typo_before_any_job(tmp_path):
    config = demo()
    config["extraction"]["batchsize"] = 8
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--cores",
            "1",
            "--configfile",
            str(path),
            "-d",
            str(tmp_path / "work"),
            "-s",
            str(ROOT / "Snakefile"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "unknown key 'extraction.batchsize'" in output
    assert str(path) in output
    assert not (tmp_path / "work" / "results").exists()


# --- One declaration: every section dataclass drives validation, defaults and the docs. ---

SECTIONS = list(sections(WorkflowConfig))
# Values for keys that have no default, by section path.
REQUIRED: dict[str, dict] = {
    "": {"samples": {"source": "bundled"}, "checkpoints": [0], "models": {"m": {"source": "hf"}}},
    "samples": {"source": "bundled"},
    "samples.hf[]": {
        "dataset": "d",
        "split": "test",
        "label_column": "label",
        "text_column": "text",
        "domains": {"biology": ["bio"]},
    },
    "models.<name>": {"source": "micro"},
    "teacher": {"model": "some/model"},
}


def section_id(sec) -> str:
    return f"{sec.path or 'top'}{'/' + sec.note if sec.note else ''}"


def keys_of(sec) -> list[str]:
    return sorted(f.name for f in dataclasses.fields(sec.cls) if f.name not in sec.omit)


def plain_defaults(sec) -> dict:
    """Every key of the section that has a default (nested sections aside), at its default."""
    return {
        f.name: default_of(f)
        for f in dataclasses.fields(sec.cls)
        if f.name not in sec.omit and has_default(f) and nested(hints(sec.cls)[f.name]) is None
    }


def required(sec) -> dict:
    names = {f.name for f in dataclasses.fields(sec.cls) if not has_default(f)}
    return {k: v for k, v in REQUIRED.get(sec.path, {}).items() if k in names}


def where(sec) -> str:
    """The section's keys' prefix as it appears in messages."""
    return sec.path.replace(".<name>", ".micro-s").replace("[]", ".0")


def put(config: dict, sec, values: dict) -> dict:
    """``config`` with the section ``sec`` replaced (or, for lists and maps, one entry of it)."""
    if sec.path == "":
        config.update(values)
    elif sec.path == "samples.hf[]":
        config["samples"] = {"source": "hf", "hf": [values]}
    elif sec.path == "models.<name>":
        config["models"]["micro-s"] = values
    elif sec.path == "teacher":
        config["teacher"] = {"backend": sec.note.split(": ")[1], **values}
    else:
        config[sec.path] = values
    return config


def test_every_section_of_the_declaration_is_walked():
    paths = {section_id(s) for s in SECTIONS}
    assert paths == {
        "top",
        "samples",
        "samples.hf[]",
        "models.<name>",
        "micro",
        "extraction",
        "sae",
        "teacher/backend: embedding",
        "teacher/backend: openai",
        "teacher/backend: vllm",
        "autointerp",
        "matching",
        "analysis",
    }


@pytest.mark.parametrize("sec", SECTIONS, ids=section_id)
def test_every_field_is_accepted_with_its_default(sec):
    given = {**required(sec), **plain_defaults(sec)}
    problems: list[str] = []
    out = check(sec.cls, given, [where(sec)] if sec.path else [], problems, omit=sec.omit)
    assert problems == []
    # A model's null means "left out" (inherit or compute), so it is dropped.
    defaults = plain_defaults(sec).items()
    expected = {k: v for k, v in defaults if v is not None or sec.cls is not ModelConfig}
    assert {k: out[k] for k in expected} == expected


STAGES = [s for s in SECTIONS if s.path not in ("", "samples.hf[]", "models.<name>")]


@pytest.mark.parametrize("sec", STAGES, ids=section_id)
def test_every_stage_key_at_its_default_passes_the_workflow_validation(sec):
    # e.g. the sae section takes every SaeConfig field (adam_beta1, eval_batch_size, ...).
    given = {**required(sec), **plain_defaults(sec)}
    out = validate_config(put(demo(), sec, given))
    section = out["teacher"] if sec.path == "teacher" else out[sec.path]
    assert {k: section[k] for k in given} == given
    assert sorted(k for k in section if k != "backend") == keys_of(sec)


@pytest.mark.parametrize("sec", SECTIONS, ids=section_id)
def test_an_unknown_key_gets_the_same_message_in_every_section(sec):
    base = demo()
    values = {**required(sec), "zz_typo": 1}
    if sec.path == "models.<name>":
        values = {**base["models"]["micro-s"], "zz_typo": 1}
    prefix = f"{where(sec)}." if sec.path else ""
    expected = f"unknown key '{prefix}zz_typo' (allowed here: {', '.join(keys_of(sec))})"
    with pytest.raises(ConfigError) as info:
        validate_config(put(base, sec, values), source="my.yaml")
    assert f"  - {expected}\n" in str(info.value) + "\n"


def test_library_dataclasses_built_from_a_dict_reject_unknown_keys_with_the_same_message():
    def expected(section: str, cls: type) -> str:
        names = ", ".join(sorted(f.name for f in dataclasses.fields(cls)))
        return f"unknown key '{section}.zz_typo' (allowed here: {names})"

    cases = [
        (lambda: SaeConfig.from_dict({"zz_typo": 1}, section="sae"), expected("sae", SaeConfig)),
        (
            lambda: AutoInterpConfig.from_dict({"zz_typo": 1}, section="autointerp"),
            expected("autointerp", AutoInterpConfig),
        ),
        (
            lambda: make_teacher({"backend": "openai", "model": "m", "zz_typo": 1}, None),
            expected("teacher", OpenAIConfig),
        ),
        (
            lambda: build(AnalysisConfig, {"zz_typo": 1}, ["analysis"]),
            expected("analysis", AnalysisConfig),
        ),
    ]
    for make, message in cases:
        with pytest.raises(ConfigError) as info:
            make()
        assert str(info.value) == message


def numeric_fields():
    for sec in SECTIONS:
        for f in dataclasses.fields(sec.cls):
            if f.name in sec.omit:
                continue
            hint = hints(sec.cls)[f.name]
            base = strip(hint)
            if base in (int, float) or (typing.get_origin(base) is list and int in numbers(hint)):
                yield pytest.param(sec, f.name, hint, id=f"{section_id(sec)}.{f.name}")


def strip(hint):
    """The type without Annotated and None."""
    if typing.get_origin(hint) is typing.Annotated:
        return strip(hint.__origin__)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) and len(args) == 1:
        return strip(args[0])
    return hint


def bounds(hint) -> list:
    """Every range mark anywhere in ``hint``."""
    found = list(getattr(hint, "__metadata__", ()))
    for arg in typing.get_args(hint):
        found += bounds(arg)
    return [b for b in found if hasattr(b, "op")]


def numbers(hint) -> set:
    found = {hint} if hint in (int, float) else set()
    for arg in typing.get_args(hint):
        found |= numbers(arg)
    return found


def outside(bound, kind):
    """A value just outside ``bound``."""
    step = 1 if kind is int else 0.5
    return {
        ">=": bound.value - step,
        ">": bound.value,
        "<=": bound.value + step,
        "<": bound.value,
    }[bound.op]


@pytest.mark.parametrize(("sec", "name", "hint"), list(numeric_fields()))
def test_every_numeric_key_declares_its_range_and_a_value_outside_is_named(sec, name, hint):
    marks = bounds(hint)
    assert marks, f"{sec.cls.__name__}.{name} has no declared range"
    kind = int if int in numbers(hint) else float
    for bound in marks:
        bad = outside(bound, kind)
        value = [bad] if typing.get_origin(strip(hint)) is list else bad
        problems: list[str] = []
        check(
            sec.cls,
            {**required(sec), name: value},
            [where(sec)] if sec.path else [],
            problems,
            omit=sec.omit,
        )
        prefix = f"{where(sec)}." if sec.path else ""
        assert any(p.startswith(f"key '{prefix}{name}") for p in problems), (bound, problems)


def test_every_key_is_documented_and_the_reference_is_current():
    for sec in SECTIONS:
        docs = field_docs(sec.cls)
        undocumented = [k for k in keys_of(sec) if not docs.get(k)]
        assert not undocumented, f"{sec.cls.__name__}: no comment or docstring for {undocumented}"
    assert (ROOT / "docs" / "config.md").read_text() == reference(WorkflowConfig), (
        "docs/config.md is stale: python -m emergence.config_docs docs/config.md"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["autointerp"].update(f1_threshold=1.5), "key 'autointerp.f1_threshold': 1.5"),
        (
            lambda c: c["autointerp"].update(f1_threshold="high"),
            "key 'autointerp.f1_threshold': 'high' is not a finite number",
        ),
        (lambda c: c["matching"].update(tau=-1), "key 'matching.tau': -1 is not a number > 0"),
        (lambda c: c["sae"].update(adam_beta2=1.0), "key 'sae.adam_beta2'"),
        (lambda c: c["sae"].update(k=8, n_latents=4), "n_latents (4) must be >= k (8)"),
        (lambda c: c["sae"].update(seed=1), "unknown key 'sae.seed'"),
        (lambda c: c.update(seed=-1), "key 'seed'"),
        (lambda c: c["models"]["micro-s"].update(params=0), "key 'models.micro-s.params'"),
        (lambda c: c["models"].update({"a b": {"source": "micro"}}), "key 'models.a b'"),
        (
            lambda c: c.update(teacher={"backend": "openai", "model": "m", "timeout_s": 0}),
            "key 'teacher.timeout_s'",
        ),
    ],
)
def test_bad_values_are_named_with_their_range(edit, message):
    config = demo()
    edit(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, source="my.yaml")
    assert message in str(info.value)


def test_numbers_stay_as_written_and_yaml_exponents_become_floats():
    config = demo()
    config["sae"].update(lr="1e-4", lr_base=1)
    out = validate_config(config)
    assert out["sae"]["lr"] == 1e-4 and isinstance(out["sae"]["lr"], float)
    # An int stays an int: Snakemake re-runs a job when the repr of its params changes.
    assert repr(out["sae"]["lr_base"]) == "1"


def run_snakemake(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "key 'autointerp.f1_threshold': 1.5 is not a number > 0 and <= 1"),
        ("high", "key 'autointerp.f1_threshold': 'high' is not a finite number"),
    ],
)
def test_snakemake_rejects_an_out_of_range_value_before_any_job(tmp_path, value, message):
    config = yaml.safe_load(TINY.read_text())
    config["autointerp"] = {"f1_threshold": value}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    work = tmp_path / "work"
    result = run_snakemake(
        "-s", str(ROOT / "Snakefile"), "-d", str(work), "--configfile", str(path)
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert message in output and str(path) in output
    assert "Traceback" not in output
    assert not (work / "results").exists()


def test_a_yaml_error_in_the_default_config_names_file_and_line(tmp_path):
    # The default config is read by the Snakefile (not `configfile:`), so its line is reported.
    for name in ("Snakefile", "rules", "workflow", "src", "report", "config"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    (tmp_path / "config" / "config.yaml").write_text("seed: 0\nmodels: [unclosed\nchecks: 1\n")
    result = run_snakemake(cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "config file config/config.yaml, line 3, column" in output, output


def test_the_config_checker_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 0\nsamples:\n  source: bundled\n   eval_fraction: 0.5\n")
    with pytest.raises(ConfigError, match=rf"config file {bad}, line 4, column \d+ is not valid"):
        read_config_file(bad)
    checker = [sys.executable, "-m", "emergence.config"]
    result = subprocess.run([*checker, str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and f"{bad}, line 4" in result.stderr
    missing = tmp_path / "nope.yaml"
    result = subprocess.run([*checker, str(missing)], capture_output=True, text=True)
    assert result.returncode == 1 and f"config file {missing} does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    result = subprocess.run([*checker, str(DEMO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_validation_does_not_import_torch():
    # The Snakefile validates the config in every (SLURM) job: torch would cost ~1 s each.
    code = (
        "import sys; from emergence.config import load_config; "
        f"load_config({str(DEMO)!r}); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
