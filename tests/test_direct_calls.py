"""Direct calls between compiled functions (src/tier1/calls.rs) keep every frame fact the
interpreter's calls give: frame objects that outlive their call (tracebacks, sys._getframe())
still show the callee's locals, line and caller; defaults, bound methods and recursion limits
behave the same. Each case is checked against the interpreter with autojit.testing.
"""

import sys
import traceback

from autojit.testing import check, check_calls


def callee(a, b=10, *, _keep=[]):
    c = a + b
    frame = sys._getframe()
    _keep.append(frame)
    return c, frame


def test_frame_objects_outlive_the_call():
    def caller(x):
        results = []
        for i in range(3):
            value, frame = callee(x + i)
            results.append((value, frame.f_code.co_name, sorted(frame.f_locals), frame.f_lineno,
                            frame.f_back.f_code.co_name if frame.f_back else None))
        return results

    check(caller, 1)


def raises(depth):
    if depth == 0:
        local_value = "here"  # noqa: F841  (seen through the traceback's frame)
        raise ValueError("deep")
    return raises(depth - 1)


def test_tracebacks_through_direct_calls():
    def catcher(depth):
        try:
            raises(depth)
        except ValueError as e:
            tb = e.__traceback__
            frames = []
            while tb is not None:
                frames.append((tb.tb_frame.f_code.co_name, tb.tb_lineno, sorted(tb.tb_frame.f_locals)))
                tb = tb.tb_next
            return frames, [line.strip() for line in traceback.format_tb(e.__traceback__)]

    results = check_calls(catcher, [((0,), {}), ((1,), {}), ((5,), {})])
    # The recursion really went through direct calls.
    assert results[-1].jit_stats.get("direct_calls", 0) >= 5


def test_defaults_and_bound_methods():
    class C:
        def method(self, a, b=2, c=3):
            return (type(self).__name__, a, b, c)

    def f(a, b=1, c=(), d=None):
        return a, b, c, d

    def caller(obj):
        bound = obj.method
        return [f(1), f(1, 2), f(1, 2, 3), f(1, 2, 3, 4), obj.method(1), obj.method(1, 5), bound(7), bound(7, 8, 9)]

    check(caller, C())


def test_wrong_argument_counts_raise_as_in_the_interpreter():
    def two(a, b):
        return a + b

    def caller(n):
        try:
            return two(*range(n)) if n > 3 else (two(1) if n == 1 else two(1, 2, 3))
        except TypeError as e:
            return str(e)

    check_calls(caller, [((1,), {}), ((2,), {}), ((5,), {})])


def test_recursion_limit_through_direct_calls():
    def down(n):
        return 0 if n == 0 else 1 + down(n - 1)

    def caller(n):
        try:
            return down(n)
        except RecursionError as e:
            return "RecursionError", str(e)

    results = check_calls(caller, [((50,), {}), ((100_000,), {})])
    assert results[0].jit_stats.get("direct_calls", 0) >= 50


# --- The direct-call routine (machine code) and its per-site cache: every check it makes
# must notice the change below, at a call site that has already called directly. Each
# scenario runs with autojit off and compiled; the outputs must agree, and direct calls must
# really have happened.

import threading  # noqa: E402

import autojit  # noqa: E402
import pytest  # noqa: E402
from conftest import run_scenario  # noqa: E402

SCENARIOS = {
    "the callee's __code__ replaced between calls": """
        def a(x):
            return ("a", x)
        def b(x):
            return ("b", x)
        def two(x, y):
            return ("two", x, y)
        def site(f, x):
            try:
                return f(x)
            except TypeError as e:
                return str(e)
        out = [site(a, 1), site(a, 2)]
        a.__code__ = b.__code__
        out += [site(a, 3), site(b, 4)]
        a.__code__ = two.__code__
        out += [site(a, 5), site(b, 6)]
    """,
    "one site, functions sharing code with other globals and closures": """
        import types
        def make(k):
            def inner(x):
                return x + k, G
            return inner
        G = "mine"
        def site(f, x):
            return f(x)
        out = [site(make(i), i) for i in range(4)]
        other = types.FunctionType(make(0).__code__, {"G": "theirs"}, "inner", None, (types.CellType(100),))
        out += [site(other, 1), site(make(5), 1), make(7)(7)]
    """,
    "one site, other kinds of callables": """
        class K:
            def __init__(self, x):
                self.x = x
            def m(self, x):
                return ("m", self.x, x)
        def f(x):
            return ("f", x)
        def g(x, y=5):
            return ("g", x, y)
        def site(c, x):
            return c(x)
        k = K(1)
        out = [site(f, 1), site(f, 2), site(K, 3).x, site(len, "abc"), site(k.m, 4), site(g, 5),
               site(f, 6), site(lambda x: ("lambda", x), 7), site(f, 8)]
    """,
    "a method site whose method becomes an instance attribute": """
        class P:
            def m(self, x):
                return ("method", x)
        def site(p, x):
            return p.m(x)
        p = P()
        out = [site(p, 1), site(p, 2)]
        p.m = lambda x: ("instance", x)
        out += [site(p, 3), site(P(), 4)]
        P.m = lambda self, x: ("replaced", x)
        out += [site(P(), 5), site(p, 6)]
        # The same code with one argument fewer (through the class): its default.
        class Q:
            def m(self, x=0):
                return ("Q.m", self, x)
        q = Q()
        out += [site(q, i)[::2] if i % 3 else site(Q, i) for i in range(7, 16)]
    """,
    "callees that leave to the interpreter, raise, or keep their frame": """
        import sys
        def raises(x):
            if x > 2:
                raise ValueError(x)
            return x
        def handles(x):
            try:
                return 10 // x
            except ZeroDivisionError:
                return "handled"
        def keeps(x):
            y = x * 2
            return sys._getframe()
        def site(x):
            try:
                a = raises(x)
            except ValueError as e:
                a = ("raised", e.args)
            frame = keeps(x)
            return a, handles(x), frame.f_locals, frame.f_lineno, frame.f_back.f_code.co_name
        out = [site(i) for i in range(5)]
    """,
    "the recursion limit changed between calls": """
        import sys
        def down(n):
            return 0 if n == 0 else 1 + down(n - 1)
        def site(n):
            try:
                return down(n)
            except RecursionError as e:
                return "RecursionError"
        limit = sys.getrecursionlimit()
        out = [site(100), site(400)]
        try:
            sys.setrecursionlimit(200)
            out += [site(100), site(400)]
        finally:
            sys.setrecursionlimit(limit)
        out += [site(400)]
    """,
    "deep recursion across data-stack chunks": """
        def down(n, pad0=0, pad1=0, pad2=0, pad3=0, pad4=0, pad5=0, pad6=0):
            big = [n, pad0, pad1, pad2, pad3, pad4, pad5, pad6]
            return 0 if n == 0 else 1 + down(n - 1, *big[1:])
        def plain(n):
            return 0 if n == 0 else 1 + plain(n - 1)
        out = [plain(900), down(300), plain(900), plain(5)]
    """,
    "tracing switched on inside a directly called function": """
        import sys
        events = []
        def tracer(frame, event, arg):
            if frame.f_code.co_name in ("leaf", "site"):
                events.append((frame.f_code.co_name, event))
            return tracer
        def leaf(x):
            return x + 1
        def start(x):
            sys.settrace(tracer)
            return leaf(x)
        def site(x):
            return leaf(x)
        try:
            out = [site(1), site(2), start(3), site(4), site(5)]
        finally:
            sys.settrace(None)
        out.append(events)
    """,
    "tracing started by a destructor, then a call": """
        import sys
        events = []
        def tracer(frame, event, arg):
            if frame.f_code.co_name == "leaf":
                events.append(event)
            return tracer
        class Starts:
            def __init__(self, start):
                self.start = start
            def __del__(self):
                if self.start:
                    sys.settrace(tracer)
        def leaf(x):
            return x + 1
        def site(start):
            s = Starts(start)
            del s
            return leaf(1)
        try:
            out = [site(False), site(False), site(False), site(True), site(False)]
        finally:
            sys.settrace(None)
        out.append(events)
    """,
    "the depth at which recursion fails": """
        import sys
        entered = [0]
        def deeper(n):
            entered[0] = max(entered[0], n)
            try:
                return deeper(n + 1)
            except RecursionError:
                return n
        def site():
            entered[0] = 0
            return deeper(0), entered[0]
        limit = sys.getrecursionlimit()
        out = [site(), site()]
        try:
            sys.setrecursionlimit(300)
            out += [site(), site()]
        finally:
            sys.setrecursionlimit(limit)
        out.append(site())
    """,
    "callee functions dying with their calls": """
        def make(k):
            def inner(x):
                return [x, k]
            return inner
        def site(i):
            return make(i)(i)
        out = [site(i) for i in range(6)]
    """,
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_direct_call_routine_sees_every_change(name):
    plain = run_scenario(SCENARIOS[name], jit=False)
    before = autojit.stats()["direct_calls"]
    jitted = run_scenario(SCENARIOS[name], jit=True)
    assert jitted == plain
    assert autojit.stats()["direct_calls"] > before


def test_direct_calls_stop_when_compilation_is_switched_off():
    # Switched off while compiled code runs: its next call must not run compiled code.
    def leaf(x):
        return x + 1

    def site(off):
        a = leaf(1)
        if off:
            autojit._core._set_compile(False)
        counts = autojit.stats()
        b = leaf(2)  # the same call site either way
        after = autojit.stats()
        return a, b, after["direct_calls"] - counts["direct_calls"], after["compiled_calls"] - counts["compiled_calls"]

    autojit.enable(threshold=0)
    try:
        for _ in range(3):
            on = site(False)
        result = site(True)
    finally:
        autojit._core._set_compile(True)
        autojit.disable()
    # (The counts include the call of autojit.stats itself, a Python function.)
    assert on[:2] == (2, 3) and on[2] >= 1 and on[3] >= 1
    assert result == (2, 3, 0, 0), "compiled code ran while compilation was off"


def test_direct_calls_from_several_threads():
    def down(n):
        return 0 if n == 0 else 1 + down(n - 1)

    results = {}

    def work(name, depth):
        results[name] = [down(depth) for _ in range(50)]

    autojit.enable(threshold=0)
    try:
        down(10)
        threads = [threading.Thread(target=work, args=(i, 200 + 50 * i)) for i in range(3)]
        for t in threads:
            t.start()
        work("main", 150)
        for t in threads:
            t.join()
    finally:
        autojit.disable()
    assert results == {"main": [150] * 50, 0: [200] * 50, 1: [250] * 50, 2: [300] * 50}


def test_direct_calls_stop_under_a_foreign_frame_evaluation_function():
    # A debugger or another JIT installs its own PEP 523 function while compiled code runs:
    # from then on every call must reach it, as in the interpreter.
    _testinternalcapi = pytest.importorskip("_testinternalcapi")

    def leaf(x):
        return x + 1

    def site(install, record):
        a = leaf(1)
        if install:
            _testinternalcapi.set_eval_frame_record(record)
        b = leaf(2)
        return a, b

    autojit.enable(threshold=0)
    try:
        for _ in range(3):
            site(False, None)
        before = autojit.stats()["direct_calls"]
        record = []
        result = site(True, record)
    finally:
        _testinternalcapi.set_eval_frame_default()
        autojit.disable()
    assert result == (2, 3)
    assert record == ["leaf"]
    assert autojit.stats()["direct_calls"] == before + 1
