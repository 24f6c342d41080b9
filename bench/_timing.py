"""Side-by-side timing helpers shared by the benchmarks: alternate the variants being
compared inside one process and report medians, so machine noise hits both alike."""

import statistics
import time


def median_times(variants, repeats=7, inner=1):
    """variants: {name: (setup, fn)} where setup() is run untimed before each timing and fn()
    is the timed work. Returns {name: median seconds per call}, alternating the variants."""
    samples = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (setup, fn) in variants.items():
            setup()
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(title, header, rows):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(title)
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
