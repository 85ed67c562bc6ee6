"""Benchmarks that drive `pairline serve` over stdio as an editor with a person typing would.

`latency` (typing traces replayed keystroke by keystroke; `--raw` and `--peer` comparisons),
`accept` (a simulated person taking suggestions, arm by arm, against llama.vim's peer; with
`accept_person` and `accept_sources`), `startup` (time to a first suggestion; with `memory`,
the RSS breakdown), `soak` (minutes of busy editing: memory and cache growth) and `traces`
(typing traces cut from real source files).
"""
