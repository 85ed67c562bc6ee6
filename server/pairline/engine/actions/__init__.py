"""Code actions ("Fix this" and other edits).

- `offers`: what the code-action list offers at a place; `answers`: a model's answer as an edit.
- `router`: which model answers (remote when configured, else local); `session.run_action`: the
  path the LSP handler and `pairline fix` share.
- `fix`: the `FixLoop` (generate → verify → revise), with `asks` (what a round asks), `round` (a
  round in flight), `mutants` (small edits), `fault_localisation`, `hunks` (the minimal change)
  and `outcome` (what the loop produced).
- `verify` and `verdicts`: how a candidate is judged, in workspace copies (`copies`,
  `workspace_copy`).
"""
