"""autojit: a just-in-time compiler for CPython.

    import autojit
    autojit.enable()          # or run a whole program with AUTOJIT=1 python prog.py

Once enabled, autojit sees every Python frame CPython evaluates (PEP 523), counts calls per
function, and compiles the hot ones. Results, exceptions and tracebacks are always exactly
CPython's. On a Python version it does not support, ``enable()`` warns once and does nothing.
"""

import sys
import types
import warnings

from . import _core

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
    """What autojit did with ``fn``: calls counted, eligibility, hotness, compilation.

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
        "code_bytes": 0,
        "compile_ns": 0,
        "fallbacks": [],
        "compile_error": None,
        "tier2_loops": 0,
        "tier2_variants": [],
        "tier2_failures": [],
    }
    if info is not None:
        facts.update(
            calls=info["calls"],
            backedges=info["backedges"],
            eligibility=info["eligibility_text"],
            module=info["module"],
            excluded_by=info["excluded_by"],
            hot=info["hot"],
            compiled=info["compiled"],
            tier=info["tier"],
            code_bytes=info.get("code_bytes", 0),
            compile_ns=info.get("compile_ns", 0),
            fallbacks=info.get("fallbacks", []),
            compile_error=info["compile_error"],
            tier2_loops=info.get("tier2_loops", 0),
            tier2_variants=info.get("tier2_variants", []),
            tier2_failures=info.get("tier2_failures", []),
        )
    if format == "dict":
        return facts
    return _explain_text(facts)


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
    if facts["compiled"]:
        lines.append(
            f"  compiled: tier {facts['tier']}, {facts['code_bytes']} bytes of machine code "
            f"in {facts['compile_ns'] / 1e6:.2f} ms"
        )
        if facts["fallbacks"]:
            names = ", ".join(sorted(set(facts["fallbacks"])))
            lines.append(
                f"  {len(facts['fallbacks'])} instruction(s) without a template run in the "
                f"interpreter from where they occur: {names}"
            )
        else:
            lines.append("  every instruction compiled")
        for header, key, exits in facts["tier2_variants"]:
            lines.append(
                f"  tier 2: loop at bytecode offset {2 * header}, specialized for {key}; "
                f"{exits} guard exit(s)"
            )
        for header, why in facts["tier2_failures"]:
            lines.append(f"  tier 2 refused the loop at bytecode offset {2 * header}: {why}")
    elif facts["compile_error"]:
        lines.append(f"  not compiled: {facts['compile_error']}")
    elif facts["eligibility"] != "eligible":
        lines.append("  not compiled")
    else:
        lines.append("  not compiled yet: below the compile threshold (functions with loops compile on their first call)")
    return "\n".join(lines)


def _register_report():
    global _report_registered
    if not _report_registered:
        import atexit

        from . import report

        _report_registered = True
        atexit.register(report.print_report)
