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
