"""Building teachers and configs from config sections."""

from __future__ import annotations

import dataclasses

import pytest

from emergence.autointerp import AutoInterpConfig, EmbeddingTeacher
from emergence.autointerp.factory import CONNECTION_KEYS, answer_settings, make_teacher
from emergence.autointerp.openai_teacher import OpenAIConfig


def test_make_embedding_teacher_is_lazy(tmp_path):
    teacher = make_teacher({"backend": "embedding", "batch_size": 16}, tmp_path)
    assert isinstance(teacher, EmbeddingTeacher) and teacher._model is None
    assert teacher.name == "embedding:all-MiniLM-L6-v2"
    assert teacher.prompt_version.startswith("vocab-")


def test_bad_sections_name_the_key():
    with pytest.raises(ValueError, match=r"teacher\.backend"):
        make_teacher({"backend": "gpt"}, None)
    with pytest.raises(ValueError, match=r"unknown key 'teacher.modle' \(allowed here: "):
        make_teacher({"backend": "openai", "modle": "x"}, None)
    with pytest.raises(ValueError, match=r"unknown key 'autointerp.n_exmples' \(allowed here: "):
        AutoInterpConfig.from_dict({"n_exmples": 3}, section="autointerp")
    with pytest.raises(ValueError, match="texts_per_prompt"):
        AutoInterpConfig(texts_per_prompt=0)
    assert AutoInterpConfig.from_dict(AutoInterpConfig().to_dict()) == AutoInterpConfig()


def test_connection_keys_are_openai_fields_that_do_not_shape_answers():
    fields = {f.name for f in dataclasses.fields(OpenAIConfig)}
    assert fields >= CONNECTION_KEYS
    assert not CONNECTION_KEYS & {"model", "temperature", "max_tokens", "seed", "structured"}
    section = {"backend": "openai", "model": "m", "base_url": "http://a:1/v1", "temperature": 0.0}
    assert answer_settings(section) == {"backend": "openai", "model": "m", "temperature": 0.0}
