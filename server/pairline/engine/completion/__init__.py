"""Inline completions: a cursor in, ghost text out.

- `engine`: `CompletionEngine`, request → prompt → model → post-processing → suggestion.
- `plan`: what a request becomes before the model runs; `postprocess`: raw output → suggestion.
- `typing_through`: suggestions already shown, kept while the user types into them.
- `cache`: the in-memory and on-disk completion cache.
- `server_choice`: `ServerChoice`, the model server that gives suggestions instead of the local
  model when `completion.backend` is "remote".
"""
