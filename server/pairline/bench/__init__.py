"""`pairline bench`: latency replay, infill quality, cross-file gain and fix rate, with plots.

One module per subcommand (`latency`, `infill`, `crossfile`, `fix`); `common` holds the report,
machine description, progress bar and scoring helpers shared by all of them, `plot` the PNGs.
"""
