"""Next-edit prediction: the history of the user's edits and the edits that should follow them.

`history` records document changes as coalesced before/after hunks; `propagate` carries the
last edit's change (a rename, an argument added to a call, a changed attribute or literal) to
the other places that need it, checked with tree-sitter; `model` asks a model to rewrite the
lines around the cursor after the recent edits, and offers the difference when it is small.
"""
