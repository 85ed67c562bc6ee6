"""Inline completions: the engine that turns a cursor into ghost text, post-processing, cache."""
