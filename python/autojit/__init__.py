"""autojit: a just-in-time compiler for CPython.

    import autojit
    autojit.enable()          # or run a whole program with AUTOJIT=1 python prog.py

Once enabled, autojit sees every Python frame CPython evaluates (PEP 523), counts calls per
function, and compiles the hot ones. Results, exceptions and tracebacks are always exactly
CPython's. On a Python version it does not support, ``enable()`` warns once and does nothing.
"""


# A program may rebind builtins (tests of rebinding do): autojit's own code keeps the originals.
from builtins import (  # noqa: F401
    abs, all, any, bool, dict, enumerate, float, getattr, hasattr, int, isinstance, iter, len, list,
    max, min, next, print, range, repr, set, sorted, str, sum, tuple, type, zip,
)
import sys
import types
import warnings

from . import _core
from .verify import VerifyWarning

__all__ = [
    "enable",
    "disable",
    "enabled",
    "exclude",
    "stats",
    "reset_stats",
    "explain",
    "options",
    "options_help",
    "supported",
    "VerifyWarning",
]

__version__ = "0.1.0"

_warned_unsupported = False
_report_registered = False


def _install_process_hooks():
    import atexit
    import os

    atexit.register(_core._shutdown)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_core._after_fork_in_child)
        os.register_at_fork(after_in_child=_perf_map_after_fork)


# The perf map being written (perf-<pid>.map in the temp directory), or None.
_perf_map_path = None


def _perf_map_name():
    import os
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"perf-{os.getpid()}.map")


def _set_perf_map(on):
    global _perf_map_path
    if on and _perf_map_path is None:
        path = _perf_map_name()
        _core._perf_map(path)
        _perf_map_path = path
    elif not on and _perf_map_path is not None:
        _core._perf_map(None)
        _perf_map_path = None


def _perf_map_after_fork():
    """A forked child runs its parent's compiled code too: its map starts as a copy."""
    global _perf_map_path
    parent = _perf_map_path
    if parent is None:
        return
    child = _perf_map_name()
    try:
        import shutil

        shutil.copyfile(parent, child)
        _core._perf_map(child)
        _perf_map_path = child
    except OSError:
        _core._perf_map(None)
        _perf_map_path = None


_install_process_hooks()


def _unsupported_reason():
    """Why the JIT cannot run on this interpreter, or None if it can."""
    if _core.VERSION_LAYER is None:
        return (
            f"Python {sys.version_info.major}.{sys.version_info.minor} is not supported "
            "(autojit supports CPython 3.11 and 3.12); running without the JIT"
        )
    if sys.implementation.name != "cpython":
        return "autojit needs CPython; running without the JIT"
    mismatches = _core.layout_mismatches()
    if mismatches:
        return (
            "this interpreter's internal layout differs from autojit's version layer "
            f"({'; '.join(mismatches[:3])}); running without the JIT"
        )
    return None


def supported():
    """True when the JIT can run on this interpreter."""
    return _unsupported_reason() is None


def enable(**options):
    """Turn the JIT on for every thread of this interpreter.

    Options (each also read from the environment as ``AUTOJIT_<NAME>``; keywords win):
    see ``options_help()``. Unknown options raise TypeError, bad values ValueError.
    Raises RuntimeError if another PEP 523 frame-evaluation function is installed.
    """
    global _warned_unsupported
    in_force = _core.enable(options)
    if in_force is None:
        if not _warned_unsupported:
            _warned_unsupported = True
            warnings.warn(f"autojit: {_unsupported_reason()}", RuntimeWarning, stacklevel=2)
        return
    # (No Python call once the hook is installed unless asked for: enable() runs no code of
    # its own under the JIT.)
    if in_force["perf_map"] or _perf_map_path is not None:
        _set_perf_map(in_force["perf_map"])
    if in_force["stats_at_exit"]:
        _register_report()


def disable():
    """Turn the JIT off: new frames run in CPython's interpreter. Frames already running
    finish as they started. Counters and options are kept."""
    _core.disable()


def enabled():
    """True while autojit's frame-evaluation hook is installed."""
    return _core.enabled()


def exclude(*module_prefixes):
    """Never compile code from these modules. A prefix covers its submodules:
    ``exclude("pandas")`` covers ``pandas`` and ``pandas.core.frame``, not ``pandasx``."""
    for prefix in module_prefixes:
        if not isinstance(prefix, str):
            raise TypeError(f"exclude() takes module names (str), not {type(prefix).__name__}")
    _core.exclude(list(module_prefixes))


def stats():
    """Counters as a dict: frames seen, calls counted, code objects seen, excluded, ..."""
    _core.resume_if_quiet()
    result = _core.stats()
    result["enabled"] = _core.enabled()
    return result


def reset_stats():
    """Zero the event counters (gauges such as live code objects are kept)."""
    _core.reset_stats()


def options():
    """The options in force (defaults and environment until enable() is called)."""
    return _core.current_options()


def options_help():
    """Every option: name, environment variables, default and a line of help."""
    return [
        {"name": name, "env": env, "default": default, "help": text}
        for name, env, default, text in _core.options_table()
    ]


def _code_of(fn):
    """The code object behind a function, method, staticmethod, classmethod or partial."""
    seen = 0
    while seen < 10:
        seen += 1
        if isinstance(fn, types.CodeType):
            return fn
        if isinstance(fn, (staticmethod, classmethod, types.MethodType)):
            fn = fn.__func__
            continue
        code = getattr(fn, "__code__", None)
        if isinstance(code, types.CodeType):
            return code
        inner = getattr(fn, "func", None) or getattr(fn, "__wrapped__", None)
        if inner is not None:
            fn = inner
            continue
        break
    raise TypeError(f"explain() needs a Python function or method, not {type(fn).__name__}")


def explain(fn, format="text"):
    """What autojit did with ``fn`` and why: calls and loop back-edges counted, whether and
    when it was compiled, to which tier, code size and compile time, the types each tier-2
    loop variant is specialized for, guard exits by reason, verify mode's checks, and what
    stopped compilation (the instruction or type, with its source line).

    ``format="dict"`` returns the same facts as a dict.
    """
    if format not in ("text", "dict"):
        raise ValueError("format must be 'text' or 'dict'")
    code = _code_of(fn)
    info = _core.code_info(code)
    facts = {
        "name": getattr(code, "co_qualname", code.co_name),
        "file": code.co_filename,
        "line": code.co_firstlineno,
        "seen": info is not None,
        "calls": 0,
        "backedges": 0,
        "eligibility": "not yet run",
        "module": None,
        "excluded_by": None,
        "hot": False,
        "compiled": False,
        "tier": 0,
        "compiled_at_call": None,
        "code_bytes": 0,
        "compile_ns": 0,
        "fallbacks": [],
        "fallback_sites": [],
        "compile_error": None,
        "tier2_loops": 0,
        "tier2_variants": [],
        "tier2_failures": [],
        "tier2_variant_limit_hits": 0,
        "sent_back": None,
        "verify": {"checked": 0, "skipped": 0, "skip_reason": None, "never": None},
        "stopped_by": None,
        "arguments": _argument_names(code),
    }
    if info is not None:
        lines = _LineTable(code)
        names = _slot_names(code)
        facts.update(
            calls=info["calls"],
            backedges=info["backedges"],
            eligibility=info["eligibility_text"],
            module=info["module"],
            excluded_by=info["excluded_by"],
            hot=info["hot"],
            compiled=info["compiled"],
            tier=info["tier"],
            compiled_at_call=info.get("compiled_at_call"),
            code_bytes=info.get("code_bytes", 0),
            compile_ns=info.get("compile_ns", 0),
            fallbacks=info.get("fallbacks", []),
            fallback_sites=[
                (op, 2 * unit, lines.line(unit)) for op, unit in info.get("fallback_sites", [])
            ],
            compile_error=info["compile_error"],
            tier2_loops=info.get("tier2_loops", 0),
            tier2_variants=[_variant_facts(v, lines, names) for v in info.get("tier2_variants", [])],
            tier2_failures=[
                {
                    "offset": 2 * header,
                    "line": lines.line(header),
                    "reason": why,
                    "types": _named_types(types, [""] * len(types), names),
                }
                for header, why, types in info.get("tier2_failures", [])
            ],
            tier2_variant_limit_hits=info.get("tier2_variant_limit_hits", 0),
            sent_back=info.get("sent_back"),
            verify=info.get("verify", facts["verify"]),
        )
        facts["stopped_by"] = _stopped_by(facts)
    if format == "dict":
        return facts
    return _explain_text(facts)


def _argument_names(code):
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & 0x4) + bool(code.co_flags & 0x8)  # *args, **kwargs
    return list(code.co_varnames[:n])


class _LineTable:
    """Source lines of a code object's instructions, by code unit."""

    def __init__(self, code):
        self.ranges = list(code.co_lines())

    def line(self, unit):
        offset = 2 * unit
        for start, end, line in self.ranges:
            if start <= offset < end:
                return line
        return None


def _slot_names(code):
    """The names of the frame's slots (locals, cells, free variables), in frame order."""
    names = []
    lookup = getattr(code, "_varname_from_oparg", None)
    if lookup is not None:
        i = 0
        while True:
            try:
                names.append(lookup(i))
            except (IndexError, ValueError):
                break
            i += 1
        return names
    cells = [c for c in code.co_cellvars if c not in code.co_varnames]
    return list(code.co_varnames) + cells + list(code.co_freevars)


def _named_types(types, type_names, names):
    """[(slot name, how tier 2 treats it, Python type name)] for the frame's values."""
    out = []
    for index, (kind, type_name) in enumerate(zip(types, type_names)):
        if kind == "unset":
            continue
        name = names[index] if index < len(names) else f"stack[{index - len(names)}]"
        out.append((name, kind, type_name))
    return out


def _variant_facts(variant, lines, names):
    exits = sorted(
        (
            {
                "reason": reason,
                "instruction": op,
                "offset": 2 * unit,
                "line": lines.line(unit),
                "guard": counted,
                "times": times,
            }
            for reason, op, unit, counted, times in variant["exits"]
        ),
        key=lambda e: (-e["times"], e["offset"]),
    )
    return {
        "offset": 2 * variant["header"],
        "line": lines.line(variant["header"]),
        "types": _named_types(variant["types"], variant["type_names"] or [""] * len(variant["types"]), names),
        "code_bytes": variant["code_bytes"],
        "compile_ns": variant["compile_ns"],
        "compiled_at_backedges": variant["compiled_at_backedges"],
        "entries": variant["entries"],
        "guard_exits": variant["guard_exits"],
        "abandoned": variant["abandoned"],
        "exits": exits,
    }


def _stopped_by(facts):
    """The first thing that kept (part of) the function from running compiled, or None."""
    if facts["sent_back"]:
        return f"sent back to the interpreter by verify mode: {facts['sent_back']}"
    if facts["compile_error"]:
        return f"tier 1 refused it: {facts['compile_error']}"
    if facts["fallback_sites"]:
        op, offset, line = min(facts["fallback_sites"], key=lambda site: site[1])
        return (
            f"{op} at line {line} (offset {offset}) has no template: each call continues in "
            "the interpreter from there"
        )
    for failure in facts["tier2_failures"]:
        return f"tier 2 refused the loop at line {failure['line']}: {failure['reason']}"
    def boxed_values(variant):
        boxed = [f"{n}: {t}" for n, kind, t in variant["types"] if kind.startswith("other")]
        return f" (values kept boxed: {', '.join(boxed)})" if boxed else ""

    for variant in facts["tier2_variants"]:
        guards = [e for e in variant["exits"] if e["guard"]]
        if variant["abandoned"] and guards:
            first = guards[0]
            detail = boxed_values(variant) if first["reason"] == "unsupported" else ""
            return (
                f"tier 2 abandoned the loop at line {variant['line']} after {variant['guard_exits']} "
                f"guard exits, most at {first['instruction']} (line {first['line']}): {first['reason']}{detail}"
            )
    for variant in facts["tier2_variants"]:
        unsupported = [e for e in variant["exits"] if e["reason"] == "unsupported"]
        if unsupported:
            first = min(unsupported, key=lambda e: e["offset"])
            detail = boxed_values(variant)
            return (
                f"tier 2 leaves the loop at line {variant['line']} at {first['instruction']} "
                f"(line {first['line']}): no tier-2 code for it with these types{detail}"
            )
    return None


def _argument_count(facts):
    return set(facts["arguments"])


def _types_text(types, nargs):
    """'arguments a: int, b: float; locals s: float; stack: range_iterator' (boxed marked)."""
    groups = {"arguments": [], "locals": [], "stack": []}
    for index, (name, kind, type_name) in enumerate(types):
        text = f"{type_name or '?'}" + (" (boxed)" if kind.startswith("other") else "")
        if name.startswith("stack["):
            groups["stack"].append(text)
        else:
            groups["arguments" if name in nargs else "locals"].append(f"{name}: {text}")
    return "; ".join(f"{group} {', '.join(items)}" for group, items in groups.items() if items)


def _explain_text(facts):
    lines = [f"{facts['name']} ({facts['file']}:{facts['line']})"]
    if not facts["seen"]:
        lines.append("  not seen by autojit: never called while the JIT was enabled")
        return "\n".join(lines)
    lines.append(f"  calls counted: {facts['calls']}, loop back-edges: {facts['backedges']}")
    status = facts["eligibility"]
    if facts["excluded_by"]:
        status += f" (module {facts['module']!r}, excluded by {facts['excluded_by']!r})"
    lines.append(f"  status: {status}")
    if facts["compiled"] or facts["sent_back"]:
        when = facts["compiled_at_call"]
        when = "on its first call" if (when or 1) == 1 else f"at call {when}"
        lines.append(
            f"  compiled to tier 1 {when}: {facts['code_bytes']} bytes of machine code "
            f"in {facts['compile_ns'] / 1e6:.2f} ms"
        )
        if facts["fallback_sites"]:
            sites = ", ".join(f"{op} (line {line})" for op, _, line in facts["fallback_sites"])
            lines.append(
                f"  {len(facts['fallback_sites'])} instruction(s) without a template run in the "
                f"interpreter from where they occur: {sites}"
            )
        else:
            lines.append("  every instruction compiled")
        for variant in facts["tier2_variants"]:
            types = _types_text(variant["types"], _argument_count(facts))
            lines.append(
                f"  tier 2: loop at line {variant['line']} (offset {variant['offset']}) after "
                f"{variant['compiled_at_backedges']} back-edges, {variant['code_bytes']} bytes in "
                f"{variant['compile_ns'] / 1e6:.2f} ms; entered {variant['entries']} time(s); "
                f"specialized for {types}"
            )
            state = " (abandoned: the loop stays in tier 1)" if variant["abandoned"] else ""
            lines.append(f"    {variant['guard_exits']} guard exit(s){state}")
            for e in variant["exits"]:
                kind = "guard exit" if e["guard"] else "exit"
                lines.append(
                    f"    {kind} {e['reason']} at {e['instruction']} (line {e['line']}): {e['times']}x"
                )
        for failure in facts["tier2_failures"]:
            lines.append(f"  tier 2 refused the loop at line {failure['line']}: {failure['reason']}")
        if facts["tier2_variant_limit_hits"]:
            lines.append(
                f"  tier 2: variant limit reached; {facts['tier2_variant_limit_hits']} request(s) "
                "for other types stayed in tier 1"
            )
    elif facts["compile_error"]:
        lines.append(f"  not compiled: {facts['compile_error']}")
    elif facts["eligibility"] != "eligible":
        lines.append("  not compiled")
    else:
        lines.append("  not compiled yet: below the compile threshold (functions with loops compile on their first call)")
    verify = facts["verify"]
    if verify["checked"] or verify["skipped"]:
        text = f"  verify: {verify['checked']} call(s) checked against the interpreter"
        if verify["never"]:
            text += f"; not checkable: {verify['never']}"
        elif verify["skipped"]:
            text += f"; {verify['skipped']} skipped ({verify['skip_reason']})"
        lines.append(text)
    if facts["sent_back"]:
        lines.append(f"  sent back to the interpreter for good: {facts['sent_back']}")
    if facts["stopped_by"] and not facts["sent_back"]:
        lines.append(f"  stopped by: {facts['stopped_by']}")
    return "\n".join(lines)


def _register_report():
    global _report_registered
    if not _report_registered:
        import atexit

        from . import report

        _report_registered = True
        atexit.register(report.print_report)
