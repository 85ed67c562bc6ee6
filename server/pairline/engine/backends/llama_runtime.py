"""What pairline takes from the llama.cpp library itself: its build, its log, its cache types.

Kept apart from the backend so that `doctor` and the benches can describe the build without
loading a model.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from pairline.engine.models.manifest import FimTemplate, fim_templates


def llama_build_info() -> dict[str, Any]:
    """The llama.cpp build in use: version and whether it can offload to a GPU."""
    import llama_cpp

    return {
        "llama_cpp_python": getattr(llama_cpp, "__version__", "unknown"),
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "system_info": llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip(),
    }


def detect_fim(llm: Any) -> FimTemplate | None:
    """The fill-in-the-middle template whose markers are each one token of `llm`'s vocabulary."""

    def single_token(text: str) -> bool:
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return len(tokens) == 1 and bool(
            llm.detokenize(tokens, special=True) == text.encode("utf-8")
        )

    for template in fim_templates():
        needed = [
            t for t in (template.prefix, template.suffix, template.middle, *template.detect) if t
        ]
        if all(single_token(token) for token in needed):
            return template
    return None


def kv_cache_args(cache_type: str) -> dict[str, Any]:
    """`Llama(...)` arguments for a KV cache in `cache_type` ("f16" or "q8_0")."""
    if cache_type == "f16":
        return {}
    import llama_cpp

    ggml_type = {"q8_0": llama_cpp.GGML_TYPE_Q8_0}[cache_type]
    # llama.cpp quantises the V cache only with flash attention on.
    return {"type_k": ggml_type, "type_v": ggml_type, "flash_attn": True}


def open_llama(cache_type: str, **kwargs: Any) -> Any:
    """`Llama(**kwargs)` with its KV cache in `cache_type`, else in 16 bits.

    An 8-bit cache stores blocks of 32 values per attention head, so a model with smaller
    heads (tiny test models) cannot have one; it gets the 16-bit cache instead of no model.
    """
    import llama_cpp

    try:
        return llama_cpp.Llama(**kwargs, **kv_cache_args(cache_type))
    except ValueError:
        if cache_type == "f16" or not any("does not divide" in line for line in recent_errors):
            raise
    _llama_log.warning(
        "the model's attention heads do not fit a %s KV cache; using f16", cache_type
    )
    recent_errors.clear()
    return llama_cpp.Llama(**kwargs)


# llama.cpp's own log (model loading, errors) goes to Python logging, never to a file
# descriptor: stdout is the LSP transport, and redirecting fd 2 would swallow every other
# thread's log lines too. The last error lines explain a failed load.
_llama_log = logging.getLogger("pairline.llama_cpp")
recent_errors: deque[str] = deque(maxlen=4)
_log_callback: Any = None


def route_llama_log() -> None:
    global _log_callback
    if _log_callback is not None:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", "replace").rstrip()
        if not line:
            return
        if level == 4:  # GGML_LOG_LEVEL_ERROR (ggml: none, debug, info, warn, error, cont)
            recent_errors.append(line)
        _llama_log.debug("%s", line)

    _log_callback = callback  # keep a reference: llama.cpp calls it for the process lifetime
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
