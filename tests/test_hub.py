"""The network boundary: offline runs fail with a message that names the pre-fetch step."""

from __future__ import annotations

import pytest

from emergence.hub import OfflineError, cached_model_path, prefetch_model


def test_missing_revision_in_cache_names_the_prefetch_command(tmp_path):
    with pytest.raises(OfflineError) as info:
        cached_model_path("EleutherAI/pythia-14m", "step1000", str(tmp_path))
    message = str(info.value)
    assert "EleutherAI/pythia-14m" in message and "step1000" in message
    assert "snakemake prefetch" in message


def test_prefetch_without_network_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="needs internet access") as info:
        prefetch_model("EleutherAI/pythia-14m", "step0", str(tmp_path))
    assert "snakemake prefetch" in str(info.value)
