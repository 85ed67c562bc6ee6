"""Prompt construction for completions and edits."""
