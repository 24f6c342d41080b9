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


# A program may rebind builtins (tests of rebinding do): autojit's own code keeps the originals.
from builtins import (  # noqa: F401
    abs, all, any, bool, dict, enumerate, float, getattr, hasattr, int, isinstance, iter, len, list,
    max, min, next, print, range, repr, set, sorted, str, sum, tuple, type, zip,
)
import copy
import copyreg
import dis
import math
import sys
import warnings
import types
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
    urandom uuid1 uuid4 id now today utcnow sleep _getframe currentframe stack extract_stack
    print_stack f_back tb_frame settrace setprofile monitoring setattr delattr""".split()
)
_GLOBAL_STORES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_CELL_STORES = frozenset({"STORE_DEREF", "DELETE_DEREF"})
_CO_VARARGS, _CO_VARKEYWORDS = 0x4, 0x8

_reasons = weakref.WeakKeyDictionary()  # code -> why it cannot be replayed ("" if it can)


def unreplayable(func):
    """Why running ``func`` a second time would not be a replay, or None. Only the cheap
    cases are detected: closures (their cells are shared state), global and nonlocal stores,
    mutable globals it reads, well-known I/O, clock, random and frame-inspection names, also
    in nested code and in the Python functions of its module it calls by name."""
    code = func.__code__
    reason = _reasons.get(code)
    if reason is None:
        if code.co_freevars:
            reason = f"it uses variables of an enclosing scope ({', '.join(code.co_freevars)}): shared state"
        else:
            reason = _scan(code, func.__globals__, set(), 0) or ""
        _reasons[code] = reason
    return reason or None


def _mutable(value):
    """A global whose state a second run could see changed (or change twice)."""
    if isinstance(value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)):
        return False
    if isinstance(value, (int, float, complex, str, bytes, bool, tuple, frozenset, range, type(None))):
        return False
    kind = type(value)
    if any(hasattr(kind, name) for name in ("__setitem__", "append", "add", "write", "send")):
        return True
    return hasattr(value, "__dict__") and not callable(value)


def _scan(code, globals_, seen, depth):
    seen.add(code)
    for instr in dis.get_instructions(code):
        line = instr.positions.lineno if instr.positions else None
        if instr.opname in _GLOBAL_STORES:
            return f"it writes the global {instr.argval!r} (line {line})"
        if instr.opname in _CELL_STORES and instr.argval in code.co_freevars:
            return f"it writes the nonlocal {instr.argval!r} (line {line})"
        if instr.opname == "LOAD_GLOBAL":
            name = instr.argval
            value = globals_.get(name, None) if isinstance(globals_, dict) else None
            if value is not None and _mutable(value):
                return f"it uses the mutable global {name!r} (line {line}): shared state"
            # Helpers of the same module it calls: their effects are its effects.
            fn_code = getattr(value, "__code__", None)
            if isinstance(value, types.FunctionType) and fn_code not in seen and depth < 3:
                if fn_code.co_freevars:
                    return f"it calls {name}(), a closure (line {line}): shared state"
                reason = _scan(fn_code, value.__globals__, seen, depth + 1)
                if reason:
                    return f"it calls {name}() (line {line}), and {reason}"
    stores_attr = any(i.opname in ("STORE_ATTR", "DELETE_ATTR") for i in dis.get_instructions(code))
    if stores_attr and {"type", "__class__"}.intersection(code.co_names):
        return "it may write class attributes (type(...).x = ...): shared state"
    used = _UNREPLAYABLE_NAMES.intersection(code.co_names)
    if used:
        return f"it may do I/O, be nondeterministic or inspect frames (uses {', '.join(sorted(used))})"
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const not in seen:
            reason = _scan(const, globals_, seen, depth)
            if reason:
                return reason
    return None


_MUTABLE_DEFAULTS = (list, dict, set, bytearray)


def _copy(func, args):
    """Deep copies of the arguments, all in one copy (aliasing between them is kept).
    Objects the function may compare by identity keep it: its default values (sentinels
    such as ``value=_sentinel``; not mutable containers, which are copied) and plain
    ``object()`` sentinels among its globals."""
    memo = {}
    for value in (func.__defaults__ or ()) + tuple((func.__kwdefaults__ or {}).values()):
        if not isinstance(value, _MUTABLE_DEFAULTS):
            memo[id(value)] = value
    for value in func.__globals__.values():
        if type(value) is object:
            memo[id(value)] = value
    # Copying must not change the program's classes: copyreg caches __slotnames__ on them.
    original = copyreg._slotnames
    copyreg._slotnames = _slotnames_uncached
    try:
        return copy.deepcopy(args, memo)
    finally:
        copyreg._slotnames = original


def _slotnames_uncached(cls):
    cached = "__slotnames__" in cls.__dict__
    names = _ORIGINAL_SLOTNAMES(cls)
    if not cached and "__slotnames__" in cls.__dict__:
        try:
            delattr(cls, "__slotnames__")
        except (AttributeError, TypeError):
            pass
    return names


_ORIGINAL_SLOTNAMES = copyreg._slotnames


def _shared(args, copies, kept):
    """The first argument the copy shares with the original although it has state a run
    could change (deepcopy keeps classes, functions and modules as they are)."""
    for index, (a, b) in enumerate(zip(args, copies)):
        if a is b and id(a) not in kept and (_mutable(a) or isinstance(a, (type, types.ModuleType, types.FunctionType))):
            return index
    return None


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
    why = unreplayable(func)
    if why:
        return "never", why
    try:
        copies = _copy(func, args)
    except Exception as error:
        return "skip", f"arguments not deep-copyable ({type(error).__name__}: {error})"
    for index, a in enumerate(args):
        if hasattr(type(a), "__next__"):
            return "skip", f"argument {code.co_varnames[index]!r} is an iterator (its source may be shared)"
    kept = {id(v) for v in (func.__defaults__ or ()) + tuple((func.__kwdefaults__ or {}).values())}
    shared = _shared(args, copies, kept)
    if shared is not None:
        name = code.co_varnames[shared]
        return "skip", f"argument {name!r} cannot be copied (a {type(args[shared]).__name__}): its state is shared"
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
