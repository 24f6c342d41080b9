"""Side-by-side speedups from bench/seed_workloads.py --json files (bench/arm64_speed.sh).

    python bench/speed_ratios.py LABEL=FILE LABEL=FILE ...

For each workload and each file: the interpreter's time, autojit's steady-state time, their
ratio (the speedup) and the tier the workload reached, so that a speedup measured under
qemu-user (compiled aarch64 code against the interpreter under the same emulator) can be read
beside the native x86_64 one.
"""

import json
import statistics
import sys

from _timing import print_table


def main(argv):
    runs = []
    for arg in argv:
        label, _, path = arg.partition("=")
        with open(path, encoding="utf-8") as f:
            runs.append((label, json.load(f)))
    names = [row["name"] for row in runs[0][1]["rows"]]
    header = ["workload"]
    for label, _ in runs:
        header += [f"{label} interp ms", f"{label} jit ms", f"{label} speedup", "tier"]
    table = []
    for i, name in enumerate(names):
        line = [name]
        for _, run in runs:
            row = run["rows"][i]
            assert row["name"] == name, "the files measure different workloads"
            exact = "" if row["exact"] else " NOT EXACT"
            line += [f"{row['interp'] * 1e3:.1f}", f"{row['jit_steady'] * 1e3:.1f}",
                     f"{row['interp'] / row['jit_steady']:.1f}x{exact}", row["explain"]["tier"]]
        table.append(line)
    geo = ["geometric mean"]
    for _, run in runs:
        geo += ["", "", f"{statistics.geometric_mean(r['interp'] / r['jit_steady'] for r in run['rows']):.1f}x", ""]
    table.append(geo)
    detail = ", ".join(f"{label}: CPython {run['python']}, scale {run['scale']}, median of {run['repeats']}"
                       for label, run in runs)
    print_table(f"Seed workloads, speedup = interpreter time / autojit steady-state time ({detail})",
                header, table)
    return 0 if all(r["exact"] for _, run in runs for r in run["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
