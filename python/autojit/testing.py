"""Differential testing: does a function behave exactly the same compiled as interpreted?

    from autojit.testing import check, check_calls

    check(fn, 3, 4.5, key="x")                       # one call
    check_calls(fn, [((1, 2), {}), ((1.5, 2), {})])  # a sequence of calls

``check`` runs ``fn`` twice, each time on its own deep copy of the arguments: once in CPython's
interpreter (autojit disabled), and once with forced compilation (``autojit.enable(threshold=0,
loop_threshold=0)``) on a never-seen copy of the function, so that it is compiled from its first
call. Functions it calls are compiled too as they run. Then it compares everything observable:

* whether the call returned or raised;
* the result, bit for bit (floats by their bits, except that any NaN equals any NaN; ``-0.0``
  differs from ``0.0``), with exact types, recursively through tuples, lists, dicts (in order),
  sets, instances' attributes, numpy arrays (dtype, shape, bytes), ...; and which parts of the
  result and of the arguments are the same object (aliasing);
* the exception: type, ``str()``, ``args``, the line ``traceback`` prints for it, its
  traceback inside the tested code (function, line and column span of every frame), its
  attributes, notes, sub-exceptions, ``__cause__`` and ``__context__``, recursively;
* how the call mutated its arguments;
* the warnings emitted (category, message, file and line), and what it printed to stdout.

The first difference raises ``AssertionError`` with a readable description. Otherwise a
``CheckResult`` is returned: the interpreter's result or exception, and whether autojit
compiled the function.

The tested function runs twice, so it should not depend on state outside its arguments that it
changes itself (a global counter, a mutable default, a closure cell): the second run would see
the first one's changes. Classes defined inside the tested function are new objects on each run;
their instances are matched by the classes' names, bases and attribute names instead of by
identity.
"""


# A program may rebind builtins (tests of rebinding do): autojit's own code keeps the originals.
from builtins import (  # noqa: F401
    abs, all, any, bool, dict, enumerate, float, getattr, hasattr, int, isinstance, iter, len, list,
    max, min, next, print, range, repr, set, sorted, str, sum, tuple, type, zip,
)
import contextlib
import copy
import io
import math
import re
import struct
import sys
import traceback
import types
import warnings

import autojit
from autojit import _core

__all__ = ["check", "check_calls", "CheckResult"]

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE


class CheckResult:
    """What one checked call did in the interpreter, and what autojit did with the function.

    ``result`` is the interpreter's return value (None if it raised), ``exception`` the
    exception it raised (or None), ``stdout`` what it printed, ``warnings`` the warnings it
    emitted as (category, message) pairs, ``compiled`` whether autojit compiled the fresh copy
    of the function (``explain(...)["compiled"]``), ``explain`` autojit's
    ``explain(..., format="dict")`` for that copy, and ``jit_stats`` how autojit's counters
    (``stats()``) moved during the compiled run: ``compiled_calls`` counts the calls, of the
    function and of everything it called, that ran compiled code.
    """

    __slots__ = ("result", "exception", "stdout", "warnings", "compiled", "explain", "jit_stats")

    def __init__(self, result, exception, stdout, warnings, compiled, explain, jit_stats):
        self.result = result
        self.exception = exception
        self.stdout = stdout
        self.warnings = warnings
        self.compiled = compiled
        self.explain = explain
        self.jit_stats = jit_stats

    @property
    def compiled_calls(self):
        return self.jit_stats.get("compiled_calls", 0)

    def __repr__(self):
        outcome = (
            f"exception={_show(self.exception)}" if self.exception is not None else f"result={_show(self.result)}"
        )
        return f"CheckResult({outcome}, compiled={self.compiled}, compiled_calls={self.compiled_calls})"


def check(fn, /, *args, **kwargs):
    """Call ``fn(*args, **kwargs)`` in the interpreter and compiled, and compare everything.

    Raises AssertionError describing the first difference; returns a CheckResult.
    """
    return check_calls(fn, [(args, kwargs)])[0]


def check_calls(fn, calls):
    """Like ``check`` for a sequence of calls, given as (args, kwargs) pairs.

    The interpreter runs the whole sequence, then one fresh copy of the function runs it with
    forced compilation, so later calls reuse the code compiled by earlier ones (with
    arguments of other types, say). Calls are compared in order; returns one CheckResult each.
    """
    func, bound_self = _target(fn)
    name = getattr(func, "__qualname__", func.__name__)
    calls = _normalize_calls(calls, name)

    prepared = []
    for args, kwargs in calls:
        payload = ((bound_self,) if bound_self is not _NOTHING else ()) + tuple(args), dict(kwargs)
        interp_in = _copy_arguments(payload, name)
        jit_in = _copy_arguments(payload, name)
        # The copies must be identical before the calls, or later differences mean nothing.
        try:
            _Comparer().same(interp_in, jit_in, "arguments")
        except _Difference as diff:
            raise TypeError(
                f"check({name}): copy.deepcopy does not reproduce the arguments faithfully, so "
                f"they cannot be compared after the call ({diff.where}: {diff.detail})"
            ) from None
        prepared.append((payload, interp_in, jit_in))

    fresh = _fresh_copy(func)
    with _jit_state_preserved():
        # Both sequences run through the same code, so the tested function starts at the same
        # stack depth each time (RecursionError must come at the same depth).
        interp, _ = _run_sequence(func, [p[1] for p in prepared], jit=False)
        jitted, facts = _run_sequence(fresh, [p[2] for p in prepared], jit=True)

    results = []
    for index, ((payload, _, _), i_out, j_out, (info, moved)) in enumerate(zip(prepared, interp, jitted, facts)):
        try:
            _compare_outcomes(i_out, j_out, bound_self is not _NOTHING)
        except _Difference as diff:
            raise AssertionError(
                _describe(name, payload, bound_self is not _NOTHING, index, len(calls), i_out, j_out, diff, info, moved)
            ) from None
        results.append(
            CheckResult(
                i_out.value,
                i_out.exception,
                i_out.stdout,
                [(category, message) for category, message, _, _ in i_out.warnings],
                bool(info.get("compiled")),
                info,
                moved,
            )
        )
    return results


# --- preparing the runs ---------------------------------------------------------------------

_NOTHING = object()


def _target(fn):
    """The Python function to copy, and the object it is bound to (or _NOTHING)."""
    bound_self = _NOTHING
    if isinstance(fn, staticmethod):
        fn = fn.__func__
    if isinstance(fn, types.MethodType):
        bound_self = fn.__self__
        fn = fn.__func__
    if not isinstance(fn, types.FunctionType):
        raise TypeError(
            f"check() needs a Python function or bound method, not {type(fn).__name__} "
            "(wrap other callables in a function)"
        )
    return fn, bound_self


def _normalize_calls(calls, name):
    normalized = []
    for index, call in enumerate(calls):
        try:
            args, kwargs = call
        except (TypeError, ValueError):
            raise TypeError(f"check_calls({name}): call {index} must be an (args, kwargs) pair, not {call!r}") from None
        if kwargs is None:
            kwargs = {}
        if not isinstance(args, (tuple, list)) or not isinstance(kwargs, dict):
            raise TypeError(
                f"check_calls({name}): call {index} must be an (args tuple, kwargs dict) pair, "
                f"not ({type(args).__name__}, {type(kwargs).__name__})"
            )
        normalized.append((tuple(args), kwargs))
    if not normalized:
        raise ValueError(f"check_calls({name}): no calls given")
    return normalized


def _copy_arguments(payload, name):
    try:
        return copy.deepcopy(payload)
    except Exception as exc:
        raise TypeError(
            f"check({name}): the arguments must be deep-copyable, because the function runs "
            f"twice, each time on its own copy, and the copies are compared afterwards; "
            f"copy.deepcopy failed with {type(exc).__name__}: {exc}"
        ) from exc


def _fresh_copy(func):
    """The same function on a new, never-seen code object, so thresholds apply from call 1."""
    code = func.__code__.replace()
    fresh = types.FunctionType(code, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    fresh.__kwdefaults__ = dict(func.__kwdefaults__) if func.__kwdefaults__ is not None else None
    fresh.__qualname__ = func.__qualname__
    fresh.__module__ = func.__module__
    fresh.__doc__ = func.__doc__
    fresh.__annotations__ = func.__annotations__
    if hasattr(func, "__type_params__"):
        fresh.__type_params__ = func.__type_params__
    fresh.__dict__.update(func.__dict__)
    return fresh


@contextlib.contextmanager
def _jit_state_preserved():
    """Disable the JIT for the duration; afterwards restore whether it was enabled and its
    options."""
    was_enabled = autojit.enabled()
    saved = autojit.options()
    if was_enabled:
        autojit.disable()
    try:
        yield
    finally:
        if autojit.enabled():
            autojit.disable()
        # enable() is the only way to set options; for a JIT that was off, turn it off again.
        try:
            autojit.enable(**saved)
        finally:
            if not was_enabled:
                autojit.disable()


# --- running --------------------------------------------------------------------------------


class _Outcome:
    __slots__ = ("value", "exception", "stdout", "warnings", "args", "kwargs")


def _run_sequence(fn, inputs, jit):
    outcomes, facts = [], []
    for args, kwargs in inputs:
        before = _counters() if jit else None
        outcomes.append(_run(fn, args, kwargs, jit))
        if jit:
            after = _counters()
            moved = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
            facts.append((autojit.explain(fn, format="dict"), moved))
    return outcomes, facts


def _counters():
    return {key: value for key, value in autojit.stats().items() if type(value) is int}


def _run(fn, args, kwargs, jit):
    out = _Outcome()
    out.value = out.exception = None
    out.args, out.kwargs = args, kwargs
    stdout = io.StringIO()
    setup_warnings = []
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
        warnings.simplefilter("always")
        try:
            out.value = _call(fn, args, kwargs, jit, caught, setup_warnings)
        except _SetupError as failure:
            raise failure.error from None
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: B036 - SystemExit and friends are outcomes too
            out.exception = exc
    for w in setup_warnings:  # what enable() said is for the user, not part of the outcome
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    out.stdout = stdout.getvalue()
    out.warnings = [(w.category, str(w.message), w.filename, w.lineno) for w in caught]
    return out


class _SetupError(Exception):
    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _call(fn, args, kwargs, jit, caught, setup_warnings):
    # Both runs call the function from the same line of this frame, so frames that look at
    # their caller (sys._getframe(1), tracebacks, warnings with stacklevel=2) see the same
    # thing. The JIT is on only around the call: this frame, started before, stays interpreted,
    # and _core.disable() is a built-in, so autojit sees the tested code and nothing else.
    if jit:
        try:
            autojit.enable(threshold=0, loop_threshold=0)
        except BaseException as exc:
            raise _SetupError(exc) from None
        setup_warnings.extend(caught)
        del caught[:]
    try:
        return fn(*args, **kwargs)
    finally:
        if jit:
            _core.disable()


# --- comparing ------------------------------------------------------------------------------


class _Difference(Exception):
    def __init__(self, where, detail, interp=_NOTHING, jit=_NOTHING):
        super().__init__(where, detail)
        self.where = where
        self.detail = detail
        self.interp = interp
        self.jit = jit


def _compare_outcomes(i_out, j_out, bound):
    comparer = _Comparer()
    if (i_out.exception is None) != (j_out.exception is None):
        raise _Difference("outcome", "one run returned, the other raised")
    if i_out.exception is not None:
        comparer.same(i_out.exception, j_out.exception, "exception")
    else:
        comparer.same(i_out.value, j_out.value, "result")
    for index, (a, b) in enumerate(zip(i_out.args, j_out.args)):
        label = "self" if bound and index == 0 else f"argument {index - bound}"
        comparer.same(a, b, f"{label} (after the call)")
    for key in i_out.kwargs:
        comparer.same(i_out.kwargs[key], j_out.kwargs[key], f"keyword argument {key!r} (after the call)")
    if i_out.stdout != j_out.stdout:
        raise _Difference("stdout", "printed output differs", i_out.stdout, j_out.stdout)
    if len(i_out.warnings) != len(j_out.warnings):
        raise _Difference(
            "warnings",
            f"{len(i_out.warnings)} warning(s) in the interpreter, {len(j_out.warnings)} compiled",
            [w[:2] for w in i_out.warnings],
            [w[:2] for w in j_out.warnings],
        )
    for index, (wa, wb) in enumerate(zip(i_out.warnings, j_out.warnings)):
        where = f"warning {index}"
        comparer.same(wa[0], wb[0], where + " category")
        if wa[1:] != wb[1:]:
            raise _Difference(where, "message, file or line differs", wa[1:], wb[1:])


_IMMUTABLE = (int, float, complex, str, bytes, tuple, frozenset, range, slice, type(None), type(...))
_ABSENT = object()


class _Comparer:
    """Strict, recursive comparison of what the interpreter produced with what compiled code
    produced. Objects with an identity (everything but immutable values) are paired one to one,
    so aliasing counts and cycles terminate."""

    def __init__(self):
        self.pairs = {}  # id(interp object) -> jit object
        self.reverse = {}  # id(jit object) -> interp object
        self.keep = []  # keeps temporaries alive so that their ids stay unique

    def same(self, a, b, where):
        limit = sys.getrecursionlimit()
        if limit < 20000:
            sys.setrecursionlimit(20000)
        try:
            self._same(a, b, where)
        except RecursionError:
            raise _Difference(where, "nested too deeply to compare") from None
        finally:
            if limit < 20000:
                sys.setrecursionlimit(limit)

    def _pair(self, a, b, where):
        """Register a with b; False if they were already paired (compared or in progress)."""
        known = self.pairs.get(id(a), _ABSENT)
        if known is b:
            return False
        if known is not _ABSENT or id(b) in self.reverse:
            raise _Difference(
                where,
                "aliasing differs: the same object appears where the other run has distinct "
                "objects (or the reverse)",
                a,
                b,
            )
        self.pairs[id(a)] = b
        self.reverse[id(b)] = a
        self.keep.append((a, b))
        return True

    def _same(self, a, b, where):
        if a is b:
            return
        ta, tb = type(a), type(b)
        if ta is not tb:
            try:
                self._same_class(ta, tb, where, what="type")
            except _Difference as diff:
                raise _Difference(where, diff.detail, a, b) from None
        if isinstance(a, type):
            self._same_class(a, b, where, what="class")
            return
        if not isinstance(a, _IMMUTABLE) and not self._pair(a, b, where):
            return
        np = sys.modules.get("numpy")
        if np is not None and isinstance(a, (np.ndarray, np.generic)):
            self._same_numpy(np, a, b, where)
        elif isinstance(a, int):  # and bool
            if not int.__eq__(a, b):
                raise _Difference(where, "integers differ", a, b)
        elif isinstance(a, float):
            if not _same_float(a, b):
                raise _Difference(where, "floats differ (bit for bit)", a, b)
        elif isinstance(a, complex):
            if not (_same_float(a.real, b.real) and _same_float(a.imag, b.imag)):
                raise _Difference(where, "complex numbers differ (bit for bit)", a, b)
        elif isinstance(a, (str, bytes, bytearray)):
            if ta.__eq__(a, b) is not True:
                raise _Difference(where, "values differ", a, b)
        elif isinstance(a, (tuple, list)):
            self._same_sequence(a, b, where)
        elif isinstance(a, dict):
            self._same_dict(a, b, where)
        elif isinstance(a, (set, frozenset)):
            self._same_set(a, b, where)
        elif isinstance(a, (range, slice)):
            for attr in ("start", "stop", "step"):
                self._same(getattr(a, attr), getattr(b, attr), f"{where}.{attr}")
        elif isinstance(a, BaseException):
            self._same_exception(a, b, where)
        elif isinstance(a, types.FunctionType):
            self._same_function(a, b, where)
        elif isinstance(a, types.MethodType):
            self._same(a.__func__, b.__func__, where + ".__func__")
            self._same(a.__self__, b.__self__, where + ".__self__")
        elif isinstance(a, types.BuiltinFunctionType):
            if a.__qualname__ != b.__qualname__:
                raise _Difference(where, "different built-in functions", a, b)
            if not isinstance(a.__self__, types.ModuleType):
                self._same(a.__self__, b.__self__, where + ".__self__")
        elif isinstance(a, types.ModuleType):
            raise _Difference(where, "different modules", a, b)
        elif isinstance(a, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
            self._same_generator(a, b, where)
        elif isinstance(a, types.CodeType):
            if a != b:
                raise _Difference(where, "different code objects", a, b)
        else:
            self._same_other(a, b, where)
            return
        # Subclasses of built-in types can carry attributes as well.
        if ta.__flags__ & _HEAPTYPE and not isinstance(a, BaseException):
            self._same_state(a, b, where)

    def _same_class(self, a, b, where, what):
        """Classes must be the same object, except classes created by the tested code itself
        (a class statement inside the function runs once per run): those are paired, and must
        agree in name, module, bases and attribute names."""
        if a is b:
            return
        if not (a.__flags__ & _HEAPTYPE and b.__flags__ & _HEAPTYPE) or (a.__module__, a.__qualname__) != (
            b.__module__,
            b.__qualname__,
        ):
            raise _Difference(where, f"{what}s differ: {_type_name(a)} vs {_type_name(b)}", _NOTHING, _NOTHING)
        if not self._pair(a, b, where):
            return
        if len(a.__bases__) != len(b.__bases__):
            raise _Difference(where, f"{what} {_type_name(a)}: different bases", a.__bases__, b.__bases__)
        for base_a, base_b in zip(a.__bases__, b.__bases__):
            self._same_class(base_a, base_b, where, what)
        skip = {"__dict__", "__weakref__"}
        names_a, names_b = set(vars(a)) - skip, set(vars(b)) - skip
        if names_a != names_b:
            raise _Difference(where, f"{what} {_type_name(a)}: different attributes", sorted(names_a), sorted(names_b))

    def _same_sequence(self, a, b, where):
        if len(a) != len(b):
            raise _Difference(where, f"lengths differ: {len(a)} vs {len(b)}", a, b)
        for index, (x, y) in enumerate(zip(a, b)):
            self._same(x, y, f"{where}[{index}]")

    def _same_dict(self, a, b, where):
        if len(a) != len(b):
            raise _Difference(where, f"sizes differ: {len(a)} vs {len(b)}", a, b)
        for index, ((ka, va), (kb, vb)) in enumerate(zip(dict.items(a), dict.items(b))):
            self._same(ka, kb, f"{where} key #{index}")
            self._same(va, vb, f"{where}[{_short(ka)}]")
        if hasattr(a, "default_factory"):
            self._same(a.default_factory, b.default_factory, where + ".default_factory")

    def _same_set(self, a, b, where):
        if len(a) != len(b):
            raise _Difference(where, f"sizes differ: {len(a)} vs {len(b)}", a, b)
        remaining = list(b)
        by_value = {}
        for y in remaining:
            by_value.setdefault(y, y)
        for x in a:
            match = _NOTHING
            y = by_value.get(x, _NOTHING)
            if y is not _NOTHING and _trial(x, y):
                match = y
            else:
                for y in remaining:
                    if _trial(x, y):
                        match = y
                        break
            if match is _NOTHING:
                raise _Difference(where, f"element {_short(x)} of the interpreter's set has no equal", a, b)
            del remaining[next(i for i, y in enumerate(remaining) if y is match)]
            if by_value.get(match, _NOTHING) is match:
                del by_value[match]
            self._same(x, match, f"{where} element {_short(x)}")

    def _same_exception(self, a, b, where):
        self._same_text(_exc_str(a), _exc_str(b), where, "messages (str) differ")
        self._same(a.args, b.args, where + ".args")
        self._same_text(_exc_line(a), _exc_line(b), where, "the line traceback prints for it differs")
        frames_a, frames_b = _frames(a.__traceback__), _frames(b.__traceback__)
        for width, what in ((2, "frames (function, line)"), (3, "positions (line, end line, column, end column)")):
            short_a, short_b = [f[:width] for f in frames_a], [f[:width] for f in frames_b]
            if short_a != short_b:
                first = next((i for i, (x, y) in enumerate(zip(short_a, short_b)) if x != y), None)
                if first is None:
                    first = min(len(short_a), len(short_b))
                detail = f"traceback {what} differ"
                if len(frames_a) > 3 or len(frames_b) > 3:
                    detail += f" ({len(frames_a)} vs {len(frames_b)} frames; first difference at frame {first}"
                    detail += ", showing frames from there)"
                    frames_a, frames_b = frames_a[first : first + 3], frames_b[first : first + 3]
                raise _Difference(where + ".__traceback__", detail, frames_a, frames_b)
        for attr in ("name", "obj", "path", "name_from", "value", "code", "message", "exceptions"):
            va, vb = getattr(a, attr, _ABSENT), getattr(b, attr, _ABSENT)
            if va is _ABSENT and vb is _ABSENT:
                continue
            self._same(va, vb, f"{where}.{attr}")
        self._same_state(a, b, where)  # custom attributes and __notes__
        if a.__suppress_context__ != b.__suppress_context__:
            raise _Difference(where + ".__suppress_context__", "differs", a.__suppress_context__, b.__suppress_context__)
        self._same(a.__cause__, b.__cause__, where + ".__cause__")
        self._same(a.__context__, b.__context__, where + ".__context__")

    def _same_text(self, a, b, where, detail):
        if a != b:
            raise _Difference(where, detail, a, b)

    def _same_function(self, a, b, where):
        if a.__qualname__ != b.__qualname__:
            raise _Difference(where, "different functions", a, b)
        ca, cb = a.__code__, b.__code__
        if ca is not cb and (ca.co_filename, ca.co_firstlineno, ca.co_code) != (
            cb.co_filename,
            cb.co_firstlineno,
            cb.co_code,
        ):
            raise _Difference(where, "different code", ca, cb)
        self._same(a.__defaults__, b.__defaults__, where + ".__defaults__")
        self._same(a.__kwdefaults__, b.__kwdefaults__, where + ".__kwdefaults__")
        cells_a, cells_b = a.__closure__ or (), b.__closure__ or ()
        for name, x, y in zip(ca.co_freevars, cells_a, cells_b):
            self._same(_cell(x), _cell(y), f"{where} free variable {name!r}")
        self._same_state(a, b, where)

    def _same_generator(self, a, b, where):
        if a.__qualname__ != b.__qualname__:
            raise _Difference(where, "different generators", a, b)
        fa = getattr(a, "gi_frame", None) or getattr(a, "cr_frame", None) or getattr(a, "ag_frame", None)
        fb = getattr(b, "gi_frame", None) or getattr(b, "cr_frame", None) or getattr(b, "ag_frame", None)
        if (fa is None) != (fb is None):
            raise _Difference(where, "one generator is finished, the other is not", a, b)
        if fa is not None:
            if fa.f_lineno != fb.f_lineno:
                raise _Difference(where, "generators suspended at different lines", fa.f_lineno, fb.f_lineno)
            self._same(dict(fa.f_locals), dict(fb.f_locals), where + " locals")

    def _same_numpy(self, np, a, b, where):
        if a.dtype != b.dtype or str(a.dtype) != str(b.dtype):
            raise _Difference(where, f"dtypes differ: {a.dtype} vs {b.dtype}", a, b)
        if isinstance(a, np.ndarray):
            if a.shape != b.shape:
                raise _Difference(where, f"shapes differ: {a.shape} vs {b.shape}", a, b)
            if a.dtype.hasobject:
                for index, (x, y) in enumerate(zip(a.ravel(order="K").tolist(), b.ravel(order="K").tolist())):
                    self._same(x, y, f"{where}.flat[{index}]")
            elif a.tobytes() != b.tobytes():
                raise _Difference(where, "array contents differ (bytes)", a, b)
            return
        if isinstance(a, np.floating) and np.isnan(a) and np.isnan(b):
            return
        if isinstance(a, np.complexfloating):
            self._same_numpy(np, a.real, b.real, where + ".real")
            self._same_numpy(np, a.imag, b.imag, where + ".imag")
            return
        if a.tobytes() != b.tobytes():
            raise _Difference(where, "numpy scalars differ (bytes)", a, b)

    def _same_state(self, a, b, where):
        """Instance attributes: __dict__ (in order) and __slots__."""
        da, db = _instance_dict(a), _instance_dict(b)
        if isinstance(da, dict) and isinstance(db, dict):
            if list(da) != list(db):
                raise _Difference(where, "attributes differ", list(da), list(db))
            for key in da:
                self._same(da[key], db[key], f"{where}.{key}")
        for name in _slot_names(type(a)):
            va, vb = _slot_value(a, name), _slot_value(b, name)
            if (va is _ABSENT) != (vb is _ABSENT):
                raise _Difference(f"{where}.{name}", "slot set in one run only", va, vb)
            if va is not _ABSENT:
                self._same(va, vb, f"{where}.{name}")

    def _same_other(self, a, b, where):
        ta = type(a)
        has_state = isinstance(_instance_dict(a), dict) or _slot_names(ta)
        if ta.__flags__ & _HEAPTYPE and has_state:
            self._same_state(a, b, where)
            return
        # C objects (iterators, Decimal, deque, datetime, ...): compare what pickling would keep.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # itertools' pickling is deprecated on 3.12
                ra, rb = a.__reduce_ex__(4), b.__reduce_ex__(4)
        except Exception:
            ra = rb = _NOTHING
        if ra is not _NOTHING and not isinstance(ra, str):
            self.keep.append((ra, rb))
            ra, rb = _materialize(ra), _materialize(rb)
            self.keep.append((ra, rb))
            self._same(ra, rb, where + " (reduced)")
            return
        if ta.__eq__ is not object.__eq__:
            try:
                equal = a == b
            except Exception:
                equal = None
            if equal is True:
                return
            if equal is False:
                raise _Difference(where, "values differ (==)", a, b)
        if _strip_addresses(_safe_repr(a)) != _strip_addresses(_safe_repr(b)):
            raise _Difference(where, "values differ (repr)", a, b)


def _trial(x, y):
    try:
        _Comparer()._same(x, y, "")
        return True
    except (_Difference, RecursionError):
        return False


def _same_float(x, y):
    if math.isnan(x) and math.isnan(y):
        return True
    return struct.pack("<d", x) == struct.pack("<d", y)


def _materialize(reduced):
    """A reduce tuple with its iterators (list items, dict items) turned into lists."""
    out = []
    for item in reduced:
        if isinstance(item, types.GeneratorType) or (
            hasattr(item, "__next__") and hasattr(item, "__iter__") and type(item).__name__.endswith("iterator")
        ):
            item = list(item)
        out.append(item)
    return tuple(out)


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _Empty


class _Empty:
    """Stands for an empty closure cell."""


def _instance_dict(obj):
    try:
        return object.__getattribute__(obj, "__dict__")
    except Exception:
        return _ABSENT


def _slot_names(cls):
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"
            if name not in names:
                names.append(name)
    return names


def _slot_value(obj, name):
    try:
        return object.__getattribute__(obj, name)
    except AttributeError:
        return _ABSENT


def _frames(tb):
    """(function, line, positions) for each traceback entry outside this harness."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename != _HERE:
            positions = None
            try:
                positions = list(code.co_positions())[tb.tb_lasti // 2]
            except (IndexError, ValueError):
                positions = ("bad instruction offset", tb.tb_lasti)
            frames.append((getattr(code, "co_qualname", code.co_name), tb.tb_lineno, positions))
        tb = tb.tb_next
    return frames


_HERE = _call.__code__.co_filename


def _exc_str(exc):
    try:
        return str(exc)
    except Exception as err:
        return f"<str() raised {type(err).__name__}: {err}>"


def _exc_line(exc):
    try:
        return "".join(traceback.format_exception_only(type(exc), exc))
    except Exception as err:
        return f"<format_exception_only() raised {type(err).__name__}: {err}>"


def _safe_repr(obj):
    try:
        return repr(obj)
    except Exception as err:
        return f"<repr() raised {type(err).__name__}>"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _strip_addresses(text):
    return _ADDRESS.sub(" at 0x…", text)


def _type_name(cls):
    module = getattr(cls, "__module__", None)
    name = getattr(cls, "__qualname__", cls.__name__)
    return name if module in (None, "builtins") else f"{module}.{name}"


# --- describing a difference ----------------------------------------------------------------


def _show(value, limit=300):
    if isinstance(value, BaseException):
        text = f"{type(value).__name__}: {_exc_str(value)}" if _exc_str(value) else type(value).__name__
        return text if len(text) <= limit else text[: limit - 1] + "…"
    text = _safe_repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if isinstance(value, type):
        return text
    return f"{text} ({_type_name(type(value))})"


def _short(value, limit=60):
    text = _safe_repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outcome_text(out):
    if out.exception is not None:
        return "raised " + _show(out.exception)
    return "returned " + _show(out.value)


def _describe(name, payload, bound, index, count, i_out, j_out, diff, info, moved):
    args, kwargs = payload
    shown = [_short(a) for a in args[1:]] if bound else [_short(a) for a in args]
    shown += [f"{k}={_short(v)}" for k, v in kwargs.items()]
    call = f"{name}({', '.join(shown)})"
    if bound:
        call = f"{_short(args[0])}.{call}"
    lines = [f"compiled run differs from the interpreter: {call}"]
    if count > 1:
        lines[0] += f"  [call {index + 1} of {count}]"
    lines.append(f"  where:       {diff.where}: {diff.detail}")
    if diff.interp is not _NOTHING or diff.jit is not _NOTHING:
        lines.append(f"  interpreter: {_show(diff.interp)}")
        lines.append(f"  compiled:    {_show(diff.jit)}")
    lines.append(f"  interpreter {_outcome_text(i_out)}")
    lines.append(f"  compiled    {_outcome_text(j_out)}")
    lines.append(
        f"  autojit: compiled={bool(info.get('compiled'))}, tier={info.get('tier')}, hot={info.get('hot')}, "
        f"calls={info.get('calls')}, status: {info.get('eligibility')}"
    )
    if moved:
        lines.append("  autojit counters during the compiled run: " + ", ".join(f"{k}+{v}" for k, v in sorted(moved.items())))
    return "\n".join(lines)
