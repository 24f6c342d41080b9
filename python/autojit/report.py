"""The report printed at exit (AUTOJIT_STATS=1, enable(stats_at_exit=True), or
``python -m autojit --report``)."""

import sys


def format_report(counters):
    width = max(len(name) for name in counters)
    lines = ["autojit report", "-" * 40]
    for name, value in counters.items():
        lines.append(f"{name:<{width}}  {value}")
    return "\n".join(lines)


def print_report(file=None):
    import autojit

    print(format_report(autojit.stats()), file=file or sys.stderr)
