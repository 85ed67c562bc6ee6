"""A project's own checks, shared by "Fix this" and test diagnostics; builds on core alone.

- `detect`: which command checks a file (configured, else found in the project).
- `runs`: a check run after a save; `failures`: the failures read back from its output.
- `timeouts`: how long a check and each test may run; `warm`: the client of the warm pytest.
- `worker` and `pytest_watchdog`: scripts copied beside a workspace copy and run there, never
  imported by pairline.
"""
