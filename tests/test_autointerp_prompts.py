"""Prompt templates, their versions, and parsing of structured outputs."""

from __future__ import annotations

import json

from emergence.autointerp.prompts import (
    label_messages,
    load_template,
    parse_label,
    parse_verify,
    prompt_version,
    verify_messages,
    verify_schema,
)


def test_template_version_is_a_content_hash():
    label = load_template("label")
    assert len(label.version) == 12 and label.system and "{examples}" in label.user
    assert prompt_version() == f"label-{label.version}+verify-{load_template('verify').version}"


def test_messages_substitute_texts_literally():
    msgs = label_messages(["What is {x}?\nSecond line", "b"], [])
    assert [m["role"] for m in msgs] == ["system", "user"]
    user = msgs[1]["content"]
    assert "1. What is {x}? Second line" in user and "2. b" in user and "(none available)" in user
    tricky = verify_messages("{texts} and {n}", ["a {label} text"])[1]["content"]
    assert '"{texts} and {n}"' in tricky and "1. a {label} text" in tricky
    msgs = verify_messages("organic chemistry", ["t1", "t2", "t3"])
    assert '"organic chemistry"' in msgs[1]["content"] and "3 in total" in msgs[1]["content"]


def test_parse_label():
    assert parse_label('{"label": "  Contract   law. "}') == ("Contract law", None)
    assert parse_label('```json\n{"label": "probability"}\n```').label == "probability"
    for bad in ["garbage", "[]", '{"name": "x"}', '{"label": ""}', '{"label": 3}']:
        label, error = parse_label(bad)
        assert label is None and error
    assert parse_label(json.dumps({"label": " ".join(["word"] * 20)})).label is None


def test_parse_verify_needs_exactly_one_bool_per_text():
    assert parse_verify('{"answers": [true, false]}', 2) == [True, False]
    assert parse_verify('{"answers": [true]}', 2) == [None, None]
    assert parse_verify('{"answers": [true, "yes"]}', 2) == [None, None]
    assert parse_verify("not json", 3) == [None, None, None]
    assert parse_verify('{"answers": [1, 0]}', 2) == [None, None]
    schema = verify_schema(4)
    assert (
        schema["properties"]["answers"]["minItems"]
        == 4
        == schema["properties"]["answers"]["maxItems"]
    )
