"""Code actions ("Fix this" and other edits): offers, answers, the fix loop and its verifier."""
