"""Next-edit suggestions measured on real edits.

`releases` (`pairline bench nextedit`: the hunks between two package releases replayed, each
predictor judged per confidence threshold), `replay` (hunks and the judge), `sources` (the
pinned release pairs, downloaded once), and the micro-measures `measure` (propagation) and
`model_measure` (the model predictor), run with `python -m`.
"""
