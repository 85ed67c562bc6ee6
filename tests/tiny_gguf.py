"""Write a tiny, loadable llama-architecture GGUF with a chosen special-token vocabulary.

Random weights, so its output means nothing; what it exercises is real: llama.cpp loads it,
tokenizes FIM control tokens as single tokens, and generates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gguf
import numpy as np

QWEN_FIM = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|repo_name|>")
STARCODER_FIM = ("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>")
CODEGEMMA_FIM = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>")


def write_tiny_gguf(path: Path, special: Sequence[str]) -> Path:
    n_embd, n_ff, n_head = 16, 32, 2
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)] + list(special)
    token_types = (
        [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
        + [gguf.TokenType.BYTE] * 256
        + [gguf.TokenType.CONTROL] * len(special)
    )
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(512)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(1)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(token_types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    rng = np.random.default_rng(0)

    def random(name: str, *shape: int) -> None:
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    def ones(name: str) -> None:
        writer.add_tensor(name, np.ones(n_embd, np.float32))

    random("token_embd.weight", len(tokens), n_embd)
    random("output.weight", len(tokens), n_embd)
    ones("output_norm.weight")
    ones("blk.0.attn_norm.weight")
    ones("blk.0.ffn_norm.weight")
    for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
        random(f"blk.0.{name}.weight", n_embd, n_embd)
    random("blk.0.ffn_gate.weight", n_ff, n_embd)
    random("blk.0.ffn_up.weight", n_ff, n_embd)
    random("blk.0.ffn_down.weight", n_embd, n_ff)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
