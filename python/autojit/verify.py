"""Verify mode (``AUTOJIT_VERIFY=1`` or ``enable(verify=True)``): the first ``verify_calls``
calls of each compiled function also run in CPython's interpreter, and the two runs are
compared bit for bit.

The hook (src/verify.rs) calls ``reference`` before running the compiled code: it decides
whether the call can be replayed, runs the function in the interpreter on deep copies of the
arguments (the JIT steps aside for that whole run) and returns the record. The compiled code
then runs on the real arguments (the program's objects see exactly one run), and ``compare``
looks for the first difference: the result (floats by their bits, exact types), the exception
(type and message), the arguments' state after the call. A difference warns
(``VerifyWarning``) and the function runs in the interpreter for good.
"""

import copy
import dis
import math
import sys
import warnings
import weakref

from . import _core


class VerifyWarning(RuntimeWarning):
    """Compiled code and CPython's interpreter disagreed on a call (verify mode); the function
    was sent back to the interpreter for good."""


# Names whose use means a second run is not a replay: output, input, files, processes,
# clocks, randomness, object identities (copies have their own).
_UNREPLAYABLE_NAMES = frozenset(
    """print input open breakpoint exec eval compile __import__ write writelines flush read
    readline readlines send sendall sendto recv system popen spawn remove unlink rename mkdir
    rmdir makedirs kill seed random randint randrange uniform choice choices shuffle sample gauss
    getrandbits time time_ns perf_counter perf_counter_ns monotonic monotonic_ns process_time
    urandom uuid1 uuid4 id now today utcnow sleep""".split()
)
_GLOBAL_STORES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_CELL_STORES = frozenset({"STORE_DEREF", "DELETE_DEREF"})
_CO_VARARGS, _CO_VARKEYWORDS = 0x4, 0x8

_reasons = weakref.WeakKeyDictionary()  # code -> why it cannot be replayed ("" if it can)


def unreplayable(code):
    """Why running ``code`` a second time would not be a replay, or None. Only the cheap
    cases are detected: global and nonlocal stores, and calls of well-known I/O, clock and
    random functions (by name, also in nested functions and comprehensions)."""
    reason = _reasons.get(code)
    if reason is None:
        reason = _scan(code, code.co_freevars) or ""
        _reasons[code] = reason
    return reason or None


def _scan(code, outer_free):
    for instr in dis.get_instructions(code):
        if instr.opname in _GLOBAL_STORES:
            return f"it writes the global {instr.argval!r} (line {instr.positions.lineno})"
        if instr.opname in _CELL_STORES and instr.argval in outer_free:
            return f"it writes the nonlocal {instr.argval!r} (line {instr.positions.lineno})"
    # Global and attribute names, and callables from enclosing functions (a closure over a
    # file's readline, say).
    used = _UNREPLAYABLE_NAMES.intersection(code.co_names + code.co_freevars)
    if used:
        return f"it may do I/O or be nondeterministic (uses {', '.join(sorted(used))})"
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            reason = _scan(const, outer_free + tuple(const.co_freevars))
            if reason:
                return reason
    return None


def _copy(func, args):
    """Deep copies of the arguments, all in one copy (aliasing between them is kept).
    Objects the function may compare by identity keep it: its default values (sentinels
    such as ``value=_sentinel``) and plain ``object()`` sentinels among its globals."""
    memo = {}
    for value in (func.__defaults__ or ()) + tuple((func.__kwdefaults__ or {}).values()):
        memo[id(value)] = value
    for value in func.__globals__.values():
        if type(value) is object:
            memo[id(value)] = value
    return copy.deepcopy(args, memo)


def _call_form(code, args):
    """The frame's arguments as (positional, keywords) for a call binding them the same way."""
    names = code.co_varnames
    n = code.co_argcount
    positional = list(args[:n])
    keywords = {names[i]: args[i] for i in range(n, n + code.co_kwonlyargcount)}
    i = n + code.co_kwonlyargcount
    if code.co_flags & _CO_VARARGS:
        positional.extend(args[i])
        i += 1
    if code.co_flags & _CO_VARKEYWORDS:
        keywords.update(args[i])
    return tuple(positional), keywords


def _observable(code, args):
    """What of the arguments the caller can see after the call: the *args tuple and the
    **kwargs dict are the call's own, only their items are the caller's."""
    seen = list(args)
    i = code.co_argcount + code.co_kwonlyargcount
    if code.co_flags & _CO_VARARGS:
        seen[i] = tuple(seen[i])
        i += 1
    if code.co_flags & _CO_VARKEYWORDS:
        seen[i] = list(seen[i].items())
    return seen


def reference(func, args):
    """Run ``func`` in the interpreter on copies of ``args`` (the frame's arguments).

    Returns ("ref", record), or ("skip", why) when this call cannot be replayed, or
    ("never", why) when no call of this code can be. A KeyboardInterrupt propagates."""
    if sys.is_finalizing():
        return "skip", "the interpreter is shutting down"
    code = func.__code__
    module = getattr(func, "__module__", None) or ""
    if module == "autojit" or module.startswith("autojit."):
        return "never", "autojit's own code (it reads the JIT's live state)"
    why = unreplayable(code)
    if why:
        return "never", why
    try:
        copies = _copy(func, args)
    except Exception as error:
        return "skip", f"arguments not deep-copyable ({type(error).__name__}: {error})"
    observed_copies = _observable(code, copies)
    observed_args = _observable(code, args)
    from .testing import _Comparer, _Difference

    try:
        _Comparer().same(observed_args, observed_copies, "")
    except _Difference as difference:
        return "skip", f"arguments do not deep-copy faithfully ({difference.where.strip()}: {difference.detail})"
    except Exception as error:
        return "skip", f"arguments cannot be compared ({type(error).__name__}: {error})"
    positional, keywords = _call_form(code, copies)
    value = exception = None
    # The reference run's warnings are the compiled run's too: shown once, by that run.
    with warnings.catch_warnings(record=True):
        try:
            value = _core._interpreted(func, positional, keywords)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            exception = error
    return "ref", (code, value, exception, observed_copies, observed_args)


def compare(record, value, exception):
    """The first difference between the reference run and the compiled run, or None."""
    from .testing import _NOTHING, _Comparer, _Difference, _short

    code, ref_value, ref_exception, ref_args, args = record
    flaky = (RecursionError, MemoryError)
    if isinstance(ref_exception, flaky) or isinstance(exception, flaky):
        return None  # depends on the stack and memory left, not on the code
    if (ref_exception is None) != (exception is None):
        def outcome(v, e):
            return f"raised {type(e).__name__}: {e}" if e is not None else f"returned {_short(v)}"

        return (
            f"the interpreter {outcome(ref_value, ref_exception)}, "
            f"compiled code {outcome(value, exception)}"
        )
    comparer = _Comparer()
    try:
        if exception is not None:
            if type(ref_exception) is not type(exception):
                return (
                    f"exception type: the interpreter raised {type(ref_exception).__name__}, "
                    f"compiled code {type(exception).__name__}"
                )
            if str(ref_exception) != str(exception):
                return f"exception message: {str(ref_exception)!r} vs {str(exception)!r}"
        else:
            comparer.same(ref_value, value, "result")
        names = code.co_varnames
        for index, (a, b) in enumerate(zip(ref_args, args)):
            comparer.same(a, b, f"argument {names[index]!r} after the call")
    except _Difference as difference:
        text = f"{difference.where}: {difference.detail}"
        if difference.interp is not _NOTHING and difference.jit is not _NOTHING:
            text += f" (interpreter {_short(difference.interp)}, compiled {_short(difference.jit)})"
        return text
    except Exception:
        return None  # objects that cannot be compared (a failing __eq__): inconclusive
    return None


def warn_mismatch(code, difference):
    name = getattr(code, "co_qualname", code.co_name)
    warnings.warn(
        f"autojit: {name} ({code.co_filename}:{code.co_firstlineno}) differs from the "
        f"interpreter: {difference}; it runs in the interpreter from now on",
        VerifyWarning,
        stacklevel=2,
    )


def _corrupted(value):
    """A different object standing in for a wrong compiled result (tests only)."""
    if type(value) is float:
        return math.nextafter(value, math.inf)
    if type(value) is int:
        return value + 1
    return object()
