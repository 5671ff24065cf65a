"""`python -m bench [--quick]`: every benchmark in turn, each in its own process so one's memory
and warm caches do not colour the next. The figures go in the README."""

from __future__ import annotations

import argparse
import subprocess
import sys

FULL = (
    ["bench.bench_startup"],
    ["bench.bench_inbound"],
    ["bench.bench_database"],
    ["bench.bench_delivery"],
    ["bench.bench_concurrency"],
    ["bench.crash_suite"],
)
QUICK = (
    ["bench.bench_startup", "--runs", "2", "--idle", "3"],
    ["bench.bench_inbound", "--supporters", "100", "--rounds", "1"],
    ["bench.bench_database", "--supporters", "10000", "--actions", "100000"],
    ["bench.bench_delivery", "--quick"],
    ["bench.bench_concurrency", "--quick"],
    ["bench.crash_suite", "--cycles", "20"],
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, a few minutes in all")
    runs = QUICK if parser.parse_args().quick else FULL
    for module, *args in runs:
        print(f"\n=== {module} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, "-m", module, *args], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
