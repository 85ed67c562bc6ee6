"""`pairline bench`: latency replay, infill quality, cross-file gain and fix rate, with plots.

One module per subcommand (`latency`, `infill`, `crossfile`, `fix`, `nextedit`, …); `common`
holds the report, machine description, progress bar and scoring helpers shared by all of them,
`plot` the PNGs. The `*_measure` modules are micro-measures of one engine part, run with
`python -m` (`context_measure`, `nextedit_measure`, `nextedit_model_measure`).
"""
