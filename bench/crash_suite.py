"""`python -m bench.crash_suite`: the crash suite at full size (the machinery, shared with
tests/bot/app/test_crash_suite.py, is in tests/support/crash_suite.py; see its docstring).

    .venv/bin/python -m bench.crash_suite [--cycles 20] [--recipients 3000] [--journeys 6]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tests.support.crash_suite import Scale, run


def main(argv: list[str] | None = None) -> int:
    defaults = Scale()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=defaults.cycles)
    parser.add_argument("--lanes", type=int, default=defaults.lanes)
    parser.add_argument("--recipients", type=int, default=defaults.recipients)
    parser.add_argument(
        "--journeys", type=int, default=defaults.journeys_per_cycle, help="new journeys a cycle"
    )
    parser.add_argument("--rate", type=float, default=defaults.rate, help="BROADCAST_RATE")
    parser.add_argument(
        "--startup-kills", type=float, default=defaults.startup_kills, help="share of cycles"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    args = parser.parse_args(argv)
    scale = Scale(
        cycles=args.cycles,
        lanes=args.lanes,
        recipients=args.recipients,
        journeys_per_cycle=args.journeys,
        rate=args.rate,
        startup_kills=args.startup_kills,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="crash-suite-") as workdir:
        report = asyncio.run(run(scale, Path(workdir)))
    print("\n".join(report.lines()))
    return 1 if report.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
