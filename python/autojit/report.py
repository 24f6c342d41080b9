"""The report printed at exit (AUTOJIT_STATS=1, enable(stats_at_exit=True), or
``python -m autojit --report``): one ``name  value`` line per counter, then the
instructions that were compiled as fallbacks into the interpreter, most frequent first."""


# A program may rebind builtins (tests of rebinding do): autojit's own code keeps the originals.
from builtins import (  # noqa: F401
    abs, all, any, bool, dict, enumerate, float, getattr, hasattr, int, isinstance, iter, len, list,
    max, min, next, print, range, repr, set, sorted, str, sum, tuple, type, zip,
)
import sys


def format_report(counters):
    counters = dict(counters)
    fallbacks = counters.pop("fallbacks_by_opcode", {}) or {}
    exits = counters.pop("exits", {}) or {}
    width = max(len(name) for name in counters)
    lines = ["autojit report", "-" * 40]
    for name, value in counters.items():
        lines.append(f"{name:<{width}}  {value}")
    if exits:
        lines.append("tier-2 exits by reason (most frequent first):")
        for name, count in sorted(exits.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {name:<{width - 2}}  {count}")
    if fallbacks:
        lines.append("fallback instructions by opcode (most frequent first):")
        for name, count in sorted(fallbacks.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {name:<{width - 2}}  {count}")
    return "\n".join(lines)


def print_report(file=None):
    import autojit

    try:
        text = format_report(autojit.stats())
    except Exception as error:  # a report must never turn a clean exit into a failure
        text = f"autojit report unavailable: {error!r}"
    print(text, file=file or sys.stderr)
