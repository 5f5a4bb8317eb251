"""`python -m bench.run` (or `make bench`): the engine against DuckDB on one synthetic month.

    python -m bench.run [--usage-rows N] [--psa-lines N] [--seed S] [--repeat R] [--keep]

Generates the month into bench/out/month (reused when its manifest says the same sizes and
seed), then runs, each in its own process, the engine end to end (`trueup reconcile --all`) and
`bench.duckdb_reconcile` on the same files. It checks that both wrote the same bytes and prints
one row per implementation: rows in, cards out, best wall time and peak memory, and their ratio.
Peak memory is the kernel's high-water mark of each child's resident set, taken by the small
launcher `bench.measure` (see why there); it includes interpreter start-up and imports.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from bench.generate import generate

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


@dataclass
class Measure:
    name: str
    command: list[str]
    output: Path
    seconds: float = float("inf")
    peak_mb: float = 0.0


def month(usage_rows: int, psa_lines: int, seed: int) -> Path:
    """Give back the month's folder, generating it unless it is already there at this size."""
    folder = OUT / "month"
    manifest = folder / "manifest.json"
    wanted = {"usage_rows": usage_rows, "psa_lines": psa_lines, "seed": seed}
    if manifest.exists():
        known = json.loads(manifest.read_text())
        complete = all((folder / name).exists() for name in known.get("rows", {}))
        if complete and {key: known.get(key) for key in wanted} == wanted:
            print(f"reusing the month in {folder.relative_to(ROOT)}")
            return folder
    started = time.perf_counter()
    for stale in folder.glob("*.csv"):
        stale.unlink()
    generate(folder, usage_rows, psa_lines, seed)
    print(
        f"generated the month in {folder.relative_to(ROOT)} ({time.perf_counter() - started:.1f} s)"
    )
    return folder


def inputs(folder: Path) -> list[str]:
    """Give back the reconcile arguments naming the month's files."""
    usage = [arg for f in sorted(folder.glob("usage-*.csv")) for arg in ("--usage", str(f))]
    return [
        *("--psa", str(folder / "psa.csv")),
        *usage,
        *("--account-map", str(folder / "account-map.csv")),
        *("--product-map", str(folder / "product-map.csv")),
        *("--catalog", str(folder / "catalog.csv")),
    ]


def engine_command(args: list[str], out: Path) -> list[str]:
    """Give back the `trueup reconcile` command of this environment (`make install` puts it
    beside the interpreter)."""
    trueup = Path(sys.executable).parent / "trueup"
    return [str(trueup), "reconcile", *args, "--all", "--out", str(out)]


def run_once(measure: Measure) -> None:
    """Run the command in its own process; keep its best time and its highest peak."""
    with tempfile.TemporaryDirectory() as scratch:
        result, log = Path(scratch) / "result.json", Path(scratch) / "log"
        with log.open("wb") as output:
            subprocess.run(
                [sys.executable, "-m", "bench.measure", str(result), *measure.command],
                cwd=ROOT,
                stdout=output,
                stderr=output,
                check=True,
            )
        measured = json.loads(result.read_text())
        if measured["exit_code"] != 0:
            sys.stderr.write(log.read_text(errors="replace"))
            sys.exit(
                f"{measure.name} failed with exit code {measured['exit_code']}: "
                + " ".join(measure.command)
            )
    measure.seconds = min(measure.seconds, measured["seconds"])
    measure.peak_mb = max(measure.peak_mb, measured["peak_mb"])


def first_difference(left: Path, right: Path) -> tuple[int, bytes, bytes] | None:
    """Give back the first line (1-based) where the two files differ, and both lines."""
    with left.open("rb") as a, right.open("rb") as b:
        for number, (line_a, line_b) in enumerate(zip_longest(a, b, fillvalue=b""), start=1):
            if line_a != line_b:
                return number, line_a, line_b
    return None


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f) - 1


def report(measures: list[Measure], rows_in: int) -> None:
    print(f"\n{'':14}{'rows in':>12}{'cards out':>12}{'time s':>10}{'peak MB':>10}")
    for m in measures:
        print(
            f"{m.name:14}{rows_in:>12,}{count_lines(m.output):>12,}"
            f"{m.seconds:>10.2f}{m.peak_mb:>10.0f}"
        )
    engine, duck = measures
    print(
        f"{'engine/duckdb':14}{'':>24}{engine.seconds / duck.seconds:>9.2f}x"
        f"{engine.peak_mb / duck.peak_mb:>9.2f}x"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--psa-lines", type=int, help="default: 0.7 × usage rows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best time counts")
    parser.add_argument("--keep", action="store_true", help="keep both cards files")
    args = parser.parse_args(argv)
    psa_lines = args.psa_lines if args.psa_lines is not None else round(0.7 * args.usage_rows)

    folder = month(args.usage_rows, psa_lines, args.seed)
    files = inputs(folder)
    measures = [
        Measure(
            "engine", engine_command(files, OUT / "cards-engine.csv"), OUT / "cards-engine.csv"
        ),
        Measure(
            "duckdb",
            [
                sys.executable,
                "-m",
                "bench.duckdb_reconcile",
                *files,
                "--out",
                str(OUT / "cards-duckdb.csv"),
            ],
            OUT / "cards-duckdb.csv",
        ),
    ]
    for _ in range(args.repeat):
        for measure in measures:
            run_once(measure)

    rows = json.loads((folder / "manifest.json").read_text())["rows"]
    print("rows in: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()))
    size = sum((folder / name).stat().st_size for name in rows) / 2**20
    print(f"input: {size:,.0f} MB of CSV")
    report(measures, sum(rows.values()))
    difference = first_difference(measures[0].output, measures[1].output)
    if difference is not None:
        number, engine_line, duck_line = difference
        print(f"\nthe cards differ from line {number}:")
        print(f"  engine: {engine_line.decode(errors='replace').rstrip()}")
        print(f"  duckdb: {duck_line.decode(errors='replace').rstrip()}")
        print(f"both files are kept in {OUT.relative_to(ROOT)}")
        sys.exit(1)
    print("\nthe two cards files are byte-identical")
    if not args.keep:
        for m in measures:
            m.output.unlink()


if __name__ == "__main__":
    main()
