"""The ``autograder`` command (filled in by the instructor-facing modules)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("autograder: not ready yet")


if __name__ == "__main__":
    sys.exit(main())
