"""What to do when the model host dies: restart it, restart it safely, or give up.

A single crash may be bad luck (the OOM killer, a rare path in llama.cpp): the host restarts as
it was, after a short pause. A second one within a minute points at the configuration, most
often llama.cpp's repacked CPU kernels (see cpu_probe.py) or a threading fault: the host
restarts without the extra buffer types and on one thread, slower but on llama.cpp's most
travelled path, and stays so for the session. A third within a minute means no configuration
helps: local completions stay off for the session, since a host crashing in a loop costs the
machine more than suggestions are worth. Each restart waits longer than the last (back-off).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

WINDOW_S = 60.0  # crashes this close together count as one run of crashes
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 8.0


@dataclass(frozen=True)
class Decision:
    """What the supervisor does after one crash."""

    restart: bool  # False: local completions are off for the session
    safe: bool  # restart without extra buffer types, on one thread
    delay_s: float  # pause before the restart
    crashes: int  # crashes within the window, this one included
    newly_safe: bool = False  # this crash switched to the safe configuration


class RestartPolicy:
    """Counts crashes over a sliding window and says how to go on after each."""

    def __init__(
        self,
        window_s: float = WINDOW_S,
        first_delay_s: float = FIRST_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
    ) -> None:
        self._window_s = window_s
        self._first_delay_s = first_delay_s
        self._max_delay_s = max_delay_s
        self._times: deque[float] = deque()
        self._restarts = 0
        self.safe = False
        self.off = False

    def crashed(self, now: float) -> Decision:
        """The host died at monotonic time `now`."""
        while self._times and now - self._times[0] > self._window_s:
            self._times.popleft()
        self._times.append(now)
        crashes = len(self._times)
        if self.off or crashes >= 3:
            self.off = True
            return Decision(restart=False, safe=self.safe, delay_s=0.0, crashes=crashes)
        newly_safe = crashes >= 2 and not self.safe
        self.safe = self.safe or newly_safe
        delay = min(self._max_delay_s, self._first_delay_s * 2**self._restarts)
        self._restarts += 1
        return Decision(
            restart=True, safe=self.safe, delay_s=delay, crashes=crashes, newly_safe=newly_safe
        )


def crash_message(fault: str, decision: Decision) -> str:
    """What the user is told after a crash, in one sentence."""
    if not decision.restart:
        return (
            f"the local model crashed ({fault}) {decision.crashes} times within a minute; "
            "local completions are off for this session (`pairline doctor` checks the model "
            "and the llama.cpp build)"
        )
    if decision.newly_safe:
        return (
            f"the local model crashed again ({fault}); restarting it in a safe configuration "
            "(no extra buffer types, one thread)"
        )
    return f"the local model crashed ({fault}); restarting"
