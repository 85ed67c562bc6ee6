"""Cross-file context for completions: import neighbours and similar open buffers.

`ContextGatherer` (one per workspace) owns the file index and caches. See gather.py for the
pipeline.
"""

from pairline.engine.context.gather import Context, ContextGatherer
from pairline.engine.context.rank import Snippet

__all__ = ["Context", "ContextGatherer", "Snippet"]
