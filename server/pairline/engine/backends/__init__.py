"""Model backends: what the engine asks of a model (`base`, `edit`) and who answers.

- The local llama.cpp model: `local_llama` (loading, the worker thread) with `llama_decoder`
  (prefill, decoding, candidates, scoring), `decoding` (token healing, log-probabilities),
  `llama_runtime` (the library's build and log), `cpu_probe` (which CPU kernels are safe) and
  `heap` (memory handed back).
- The same model in a process of its own, as `pairline serve` runs it: `host_backend` (the
  server's side), `host_process` (one child), `host_protocol` (the framed pipe), `host_restarts`
  (the restart policy) and `model_host` (the child's main).
- Remote models for code actions: `http` (one streaming POST, retried), `openai_compat`,
  `anthropic`.
- Inline suggestions from a model server (`completion.backend = "remote"`): `completion_server`
  (`ServerCompletionBackend`: streaming, cancellation, back-off) over one API each,
  `server_llama` (llama-server's /infill and /completion), `server_openai` (/v1/completions),
  `server_ollama` (/api/generate), with what they share in `server_api`.
"""
