"""Entry point for `python -m pairline`."""

from pairline.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
