"""The KV cache's number format reaches llama.cpp as the arguments it needs."""

from __future__ import annotations

import llama_cpp

from pairline.engine.backends.llama_runtime import kv_cache_args
from pairline.engine.core.config import Settings, load_settings


def test_the_default_cache_is_eight_bit_with_flash_attention() -> None:
    assert Settings().model.kv_cache_type == "q8_0"
    args = kv_cache_args("q8_0")
    assert args["type_k"] == args["type_v"] == llama_cpp.GGML_TYPE_Q8_0
    # Without flash attention llama.cpp refuses a quantised V cache.
    assert args["flash_attn"] is True


def test_a_sixteen_bit_cache_leaves_llama_cpp_defaults() -> None:
    assert kv_cache_args("f16") == {}


def test_an_unknown_cache_type_is_reported_and_the_section_keeps_its_defaults() -> None:
    settings, problems = load_settings({"model": {"kv_cache_type": "q4", "n_ctx": 1024}})
    assert settings.model == Settings().model
    assert len(problems) == 1 and "kv_cache_type" in problems[0] and "q8_0" in problems[0]
