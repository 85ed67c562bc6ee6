"""Benchmarks of what the engine produces on fixed task sets.

`infill` (HumanEval-Infilling: exact match, edit similarity, pass@1), `crossfile`
(CrossCodeEval-style tasks with and without cross-file context), `fix` ("Fix this" on
HumanEvalFix, with `fix_workspace`, `fix_languages` and `fix_project` writing each task as a
user's project), `checks` (check runs per second, cold and warm) and `context_measure` (the
context-gathering micro-measure, run with `python -m`).
"""
