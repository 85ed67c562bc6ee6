"""Shared basics every feature builds on; imports nothing else of the engine.

- `types`: the value types requests and answers are made of (`Position`, `CompletionRequest`, …).
- `config` (built on `config_base`): the settings, `load_settings`; `schema` reads them off as JSON
  Schema and `schema_render` writes the files generated from it.
- `languages` (entries in `language_entry`): every per-language fact; `syntax`: tree-sitter parses.
- `document`: a buffer with LSP positions; `redact`: secrets out of anything sent to a remote.
- `lru`, `percentile`: the one bounded map and the one percentile definition.
"""
