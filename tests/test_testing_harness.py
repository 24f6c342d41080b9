"""The differential-testing harness itself (autojit.testing): it must catch every kind of
difference between the interpreter and compiled code.

No compiler tier needs to exist for these tests: each function under test asks
autojit.enabled(), which is True only in the harness's compiled run, and behaves differently
then, the way miscompiled code would.
"""

import struct
import sys
import warnings

import pytest

import autojit
from autojit.testing import CheckResult, check, check_calls

J = autojit.enabled  # True in the compiled run only


def differs(fn, *args, match, **kwargs):
    """check() must fail on fn, with a message matching `match`; returns the message."""
    with pytest.raises(AssertionError, match=match) as info:
        check(fn, *args, **kwargs)
    message = str(info.value)
    assert message.startswith("compiled run differs from the interpreter"), message
    assert "interpreter" in message and "compiled" in message
    return message


# --- agreement: nothing to report, and a useful result -------------------------------------


def test_identical_behaviour_passes_and_reports_the_interpreters_result():
    def f(a, b=2, *, c):
        return [a * b, c]

    r = check(f, 3, c="x")
    assert isinstance(r, CheckResult)
    assert r.result == [6, "x"] and r.exception is None
    assert r.compiled in (True, False)
    assert r.explain["seen"] and r.explain["calls"] >= 1


def test_exception_outcome_is_reported():
    def f(x):
        return 1 / x

    r = check(f, 0)
    assert r.result is None
    assert type(r.exception) is ZeroDivisionError


def test_warnings_and_stdout_are_reported():
    def f():
        print("hello")
        warnings.warn("careful", UserWarning)
        return 1

    r = check(f)
    assert r.stdout == "hello\n"
    assert r.warnings == [(UserWarning, "careful")]


def test_the_compiled_run_uses_a_fresh_copy_of_the_function():
    def f(x):
        return x + 1

    r = check(f, 1)
    # The copy was seen (and counted from its first call); the original never ran under the JIT.
    assert r.explain["seen"] and r.explain["calls"] == 1 and r.explain["hot"]
    assert not autojit.explain(f, format="dict")["seen"]


def test_runs_are_interpreted_then_compiled():
    def f():
        return autojit.enabled()

    differs(f, match="result: integers differ")


def test_the_jit_state_and_options_are_restored():
    def f():
        return 1

    was_enabled, before = autojit.enabled(), autojit.options()
    try:
        for enabled, options in ((False, {}), (True, {"threshold": 7, "loop_threshold": 9}), (False, {"threshold": 3})):
            autojit.enable(**options)
            if not enabled:
                autojit.disable()
            expected = autojit.options()
            check(f)
            assert autojit.enabled() == enabled
            assert autojit.options() == expected
            with pytest.raises(AssertionError):
                check(lambda: 1.0 if J() else 1)
            assert autojit.enabled() == enabled
            assert autojit.options() == expected
    finally:
        autojit.enable(**before)
        if not was_enabled:
            autojit.disable()


def test_interpreter_run_is_unjitted_even_when_the_jit_was_on(jit):
    seen = []

    def f(log):
        log.append(autojit.enabled())
        return len(log)

    differs(f, seen, match=r"argument 0 \(after the call\)\[0\]: integers differ")
    assert autojit.enabled()


def test_frames_see_the_same_caller_in_both_runs():
    def f():
        frame = sys._getframe()
        return frame.f_lineno, frame.f_code.co_name, frame.f_back.f_code.co_name, frame.f_back.f_lineno

    assert check(f).result[1] == "f"


# --- results ---------------------------------------------------------------------------------


def test_int_versus_float_is_a_type_difference():
    message = differs(lambda: 1.0 if J() else 1, match="types differ: int vs float")
    assert "interpreter: 1 (int)" in message and "compiled:    1.0 (float)" in message


def test_bool_versus_int_is_a_type_difference():
    differs(lambda: 1 if J() else True, match="types differ: bool vs int")


def test_negative_zero_differs_from_zero():
    message = differs(lambda: -0.0 if J() else 0.0, match="floats differ")
    assert "-0.0" in message


def test_negative_zero_in_a_complex_number():
    differs(lambda: complex(1, -0.0) if J() else complex(1, 0.0), match="complex numbers differ")


def test_nan_equals_nan_whatever_its_payload():
    def f():
        if J():
            return struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]
        return float("nan")

    check(f)
    differs(lambda: 1.5 if J() else float("nan"), match="floats differ")


def test_last_bit_of_a_float():
    differs(lambda: 0.1 + 0.2 if J() else 0.30000000000000004 - 5e-17, match="floats differ")


def test_big_ints():
    differs(lambda: 2**100 + (1 if J() else 0), match="integers differ")


def test_nested_difference_names_its_place():
    def f():
        return [1, (2, {"k": {"z": -0.0 if J() else 0.0}})]

    differs(f, match=r"result\[1\]\[1\]\['k'\]\['z'\]: floats differ")


def test_list_lengths():
    differs(lambda: [1, 2, 3] if J() else [1, 2], match="lengths differ: 2 vs 3")


def test_tuple_versus_list():
    differs(lambda: [1] if J() else (1,), match="types differ: tuple vs list")


def test_dict_insertion_order():
    differs(lambda: {"b": 2, "a": 1} if J() else {"a": 1, "b": 2}, match=r"result key #0")


def test_dict_keys_compared_strictly():
    differs(lambda: {-0.0: 1} if J() else {0.0: 1}, match=r"result key #0: floats differ")


def test_set_elements_compared_strictly_but_in_any_order():
    differs(lambda: {-0.0, 1} if J() else {0.0, 1}, match=r"element 0.0 of the interpreter.s set has no equal")
    differs(lambda: {1, 3} if J() else {1, 2}, match=r"has no equal")
    check(lambda: {float("nan"), 1, "a", (2, 3)})


def test_str_and_bytes():
    differs(lambda: "abd" if J() else "abc", match="values differ")
    differs(lambda: b"x" if J() else "x", match="types differ")


def test_instance_attributes():
    class P:
        def __init__(self, x):
            self.x = x

    differs(lambda: P(2.0) if J() else P(2), match=r"result\.x: types differ")


def test_slots():
    class S:
        __slots__ = ("a", "b")

    def f():
        s = S()
        s.a = 1
        if J():
            s.b = 2
        return s

    differs(f, match=r"result\.b: slot set in one run only")


def test_classes_made_inside_the_function_are_matched_by_name():
    def f():
        class Local:
            def __init__(self):
                self.v = [1, 2]

        return Local(), Local

    check(f)

    def g():
        class Local:
            pass

        obj = Local()
        obj.v = 1.0 if J() else 1
        return obj

    differs(g, match=r"result\.v: types differ")


def test_aliasing():
    def f():
        x = [1]
        return [x, list(x) if J() else x]

    differs(f, match="aliasing differs")


def test_returning_the_argument_itself_versus_a_copy():
    def f(x):
        return list(x) if J() else x

    differs(f, [1, 2], match="aliasing differs")


def test_functions_and_closures_returned():
    def f():
        n = 1.0 if J() else 1

        def inner():
            return n

        return inner

    differs(f, match=r"free variable 'n': types differ")


def test_iterators_returned_are_compared_by_position():
    def f():
        it = iter([1, 2, 3])
        next(it)
        if J():
            next(it)
        return it

    differs(f, match="integers differ")


def test_numpy_arrays():
    np = pytest.importorskip("numpy")
    check(lambda: np.arange(5.0))
    differs(lambda: np.arange(5, dtype=np.float32 if J() else np.float64), match="dtypes differ")
    differs(lambda: np.zeros((2, 3) if J() else (3, 2)), match="shapes differ")
    differs(lambda: np.array([0.0, -0.0 if J() else 0.0]), match="array contents differ")
    differs(lambda: np.float64(-0.0 if J() else 0.0), match="floats differ|numpy scalars differ")


# --- exceptions ------------------------------------------------------------------------------


def test_returned_versus_raised():
    def f():
        if J():
            raise ValueError("boom")
        return 1

    message = differs(f, match="one run returned, the other raised")
    assert "interpreter returned 1 (int)" in message
    assert "compiled    raised ValueError: boom" in message


def test_exception_types():
    def f():
        raise (KeyError if J() else IndexError)("k")

    differs(f, match="exception: types differ: IndexError vs KeyError")


def test_exception_messages():
    def f():
        raise ValueError("compiled" if J() else "interpreted")

    differs(f, match=r"exception: messages \(str\) differ")


def test_exception_args_with_the_same_message():
    def f():
        # str() is "('a', 'b')" for both
        raise ValueError(("a", "b")) if J() else ValueError("a", "b")

    differs(f, match=r"exception.args: lengths differ: 2 vs 1")


def test_traceback_line_numbers():
    def f():
        if J():
            raise ValueError("x")
        raise ValueError("x")

    differs(f, match=r"traceback frames \(function, line\) differ")


def test_traceback_of_a_deep_call_chain():
    def leaf(n):
        if n == 2:
            raise RuntimeError("deep")
        return 1

    def f():
        total = 0
        for n in range(4):
            if J() and n == 2:
                total += leaf(n)
            else:
                total += leaf(n)
        return total

    differs(f, match=r"traceback frames \(function, line\) differ")


def test_traceback_columns():
    def f():
        return (1 / 0 if J() else 0) + (0 if J() else 1 / 0)

    differs(f, match=r"traceback positions")


def test_cause_and_context():
    def cause():
        try:
            {}["k"]
        except KeyError as e:
            raise ValueError("v") from (e if J() else None)

    differs(cause, match=r"exception.__cause__: types differ: NoneType vs KeyError")

    def context():
        try:
            if J():
                raise KeyError("k")
            raise IndexError("k")
        except LookupError:
            raise ValueError("v")

    differs(context, match=r"exception.__context__: types differ")


def test_attribute_error_name():
    class A:
        spam = 1

    def f():
        return getattr(A(), "spma" if J() else "spam_")

    differs(f, match=r"messages|traceback prints")


def test_exception_groups():
    def f():
        raise ExceptionGroup("eg", [ValueError(1), TypeError("a" if J() else "b")])

    differs(f, match=r"exception\.args\[1\]\[1\]|exception.exceptions")


def test_exception_notes():
    def f():
        e = ValueError("x")
        e.add_note("compiled" if J() else "interpreted")
        raise e

    differs(f, match=r"traceback prints|__notes__")


def test_exception_returned_as_a_value():
    def f():
        try:
            1 / 0
        except ZeroDivisionError as e:
            return e if J() else ZeroDivisionError("division by zero")

    differs(f, match=r"traceback")


# --- arguments, warnings, output --------------------------------------------------------------


def test_mutated_argument():
    def f(d):
        d["n"] = 1 if J() else 2

    message = differs(f, {}, match=r"argument 0 \(after the call\)\['n'\]: integers differ")
    assert "f({})" in message


def test_mutated_keyword_argument():
    def f(*, acc):
        acc.append(-0.0 if J() else 0.0)

    differs(f, acc=[], match=r"keyword argument 'acc' \(after the call\)\[0\]: floats differ")


def test_mutated_self_of_a_bound_method():
    class Counter:
        def __init__(self):
            self.n = 0

        def bump(self):
            self.n += 2 if J() else 1

    differs(Counter().bump, match=r"self \(after the call\)\.n")
    c = Counter()
    check(lambda: c.n)  # the real object was never touched by check(c.bump)
    assert c.n == 0


def test_warning_only_when_compiled():
    def f():
        if J():
            warnings.warn("only compiled", RuntimeWarning)
        return 1

    differs(f, match=r"warnings: 0 warning\(s\) in the interpreter, 1 compiled")


def test_warning_category_and_message():
    def f():
        warnings.warn("m", DeprecationWarning if J() else UserWarning)

    differs(f, match=r"warning 0 category")

    def g():
        warnings.warn("compiled" if J() else "interpreted")

    differs(g, match=r"warning 0: message, file or line differs")


def test_warning_line():
    def f():
        if J():
            warnings.warn("w")
        else:
            warnings.warn("w")

    differs(f, match=r"warning 0: message, file or line differs")


def test_printed_output():
    def f():
        print("compiled" if J() else "interpreted")

    differs(f, match="stdout: printed output differs")


# --- sequences of calls, and misuse ---------------------------------------------------------


def test_check_calls_reports_which_call():
    def f(x):
        return float(x) if (J() and x == 2) else x

    message = None
    with pytest.raises(AssertionError) as info:
        check_calls(f, [((1,), {}), ((2,), {}), ((3,), None)])
    message = str(info.value)
    assert "[call 2 of 3]" in message and "f(2)" in message


def test_check_calls_returns_one_result_per_call():
    def f(x, y=1):
        return x * y

    results = check_calls(f, [((2,), {}), ((2.5,), {"y": 2}), (["a"], {"y": 3})])
    assert [r.result for r in results] == [2, 5.0, "aaa"]


def test_arguments_that_cannot_be_copied():
    def f(g):
        return next(g)

    with pytest.raises(TypeError, match="deep-copyable"):
        check(f, (i for i in range(3)))


def test_not_a_python_function():
    with pytest.raises(TypeError, match="Python function"):
        check(len, [1])


def test_malformed_calls():
    with pytest.raises(TypeError, match="pair"):
        check_calls(lambda x: x, [1])
    with pytest.raises(ValueError):
        check_calls(lambda x: x, [])


# --- both runs start from the same place ------------------------------------------------------


def _stack_depth():
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def test_both_runs_start_at_the_same_stack_depth():
    def f(x):
        return _stack_depth() + x

    check(f, 0)
    check_calls(f, [((0,), {}), ((1,), {}), ((2,), {})])


def runaway(n):
    return runaway(n + 1)


def test_recursion_error_at_the_same_depth():
    r = check(runaway, 0)
    assert type(r.exception) is RecursionError


def test_generators_returned_are_compared_by_state():
    def f():
        def gen():
            yield 1
            yield 2

        g = gen()
        next(g)
        if J():
            next(g)
        return g

    differs(f, match="generators suspended at different lines")


def test_system_exit_is_an_outcome():
    def f():
        sys.exit(1 if J() else 2)

    differs(f, match=r"exception")


def test_c_objects_are_compared_by_their_state():
    import collections
    import decimal
    import itertools

    check(lambda: (itertools.count(3), collections.deque([1, 2], maxlen=5), decimal.Decimal("1.50")))
    differs(lambda: itertools.count(5 if J() else 4), match="integers differ")
    differs(lambda: decimal.Decimal("-0" if J() else "0"), match="values differ")
    differs(lambda: collections.deque([1], maxlen=3 if J() else 2), match="integers differ")


def test_only_the_tested_code_runs_under_the_jit():
    def f(x):
        return x + 1

    r = check(f, 1)
    if "frames_seen" in r.jit_stats or "frames_seen" in autojit.stats():
        assert r.jit_stats.get("frames_seen") == 1  # f's own frame: none of the harness's
    assert r.compiled_calls in (0, 1)
