"""The hook's counters: exact per-function call counts, and the frames it must never take."""

import sys

import pytest

import autojit


def test_a_function_called_1000_times_shows_1000(jit):
    def f(x):
        return x

    for i in range(1000):
        f(i)
    assert autojit.explain(f, format="dict")["calls"] == 1000


def test_global_counters_are_exact(jit):
    def g():
        pass

    # _core.stats is a C function: reading the counters adds no Python call.
    before = autojit._core.stats()["calls"]
    for _ in range(250):
        g()
    # The loop runs in this test function's frame, which is already running: only g counts.
    assert autojit._core.stats()["calls"] - before == 250


def test_calls_while_disabled_are_not_counted():
    def f():
        pass

    autojit.enable()
    f()
    autojit.disable()
    f()
    f()
    assert autojit.explain(f, format="dict")["calls"] == 1


def test_threshold_marks_hot(jit):
    autojit.enable(threshold=3)

    def f():
        pass

    for _ in range(3):
        f()
    assert not autojit.explain(f, format="dict")["hot"]
    f()
    assert autojit.explain(f, format="dict")["hot"]


def test_threshold_zero_marks_on_first_call(jit):
    autojit.enable(threshold=0)

    def f():
        pass

    f()
    assert autojit.explain(f, format="dict")["hot"]


def test_generators_and_coroutines_are_never_taken(jit):
    def gen():
        yield 1
        yield 2

    async def coro():
        return 1

    async def agen():
        yield 1

    for _ in range(5):
        assert list(gen()) == [1, 2]
        c = coro()
        try:
            c.send(None)
        except StopIteration as stop:
            assert stop.value == 1
        ag = agen().__anext__()
        try:
            ag.send(None)
        except StopIteration:
            pass
    for fn in (gen, coro, agen):
        facts = autojit.explain(fn, format="dict")
        assert facts["calls"] == 0
        assert "generator" in facts["eligibility"]
    assert autojit.stats()["frames_ineligible"] >= 15


def test_class_and_module_bodies_are_never_taken(jit):
    namespace = {"__name__": "bodies"}
    exec(compile("class C:\n    x = 1\n", "<bodies>", "exec"), namespace)
    s = autojit.stats()
    assert s["code_objects_ineligible"] >= 2  # the module code and the class body


def test_nothing_is_counted_while_tracing(jit):
    def f():
        pass

    def tracer(frame, event, arg):
        return None

    sys.settrace(tracer)
    try:
        for _ in range(10):
            f()
        # The hook stepped aside entirely, so CPython runs exactly as it does untraced.
        assert autojit._core.stats()["suspended_for_tracing"]
        assert not autojit._core.stats()["hook_installed"]
        assert not autojit._core.resume_if_quiet()  # still tracing: stays suspended
    finally:
        sys.settrace(None)
    assert autojit.explain(f, format="dict")["calls"] == 0
    assert autojit._core.resume_if_quiet()
    assert autojit._core.stats()["hook_installed"]
    f()
    assert autojit.explain(f, format="dict")["calls"] == 1


def test_hook_rearms_by_itself_after_tracing(jit):
    import time

    def f():
        pass

    sys.settrace(lambda *a: None)
    f()
    sys.settrace(None)
    deadline = time.monotonic() + 5
    while autojit._core.stats()["suspended_for_tracing"] and time.monotonic() < deadline:
        time.sleep(0.01)  # the pending call runs when this thread runs bytecode
    assert autojit._core.stats()["hook_installed"]


def test_nothing_is_counted_while_profiling(jit):
    def f():
        pass

    sys.setprofile(lambda *a: None)
    try:
        for _ in range(10):
            f()
    finally:
        sys.setprofile(None)
    assert autojit.explain(f, format="dict")["calls"] == 0
    autojit._core.resume_if_quiet()


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is new in 3.12")
def test_nothing_is_counted_while_monitoring(jit):
    mon = sys.monitoring
    tool = mon.COVERAGE_ID

    def f():
        return 1

    mon.use_tool_id(tool, "autojit-test")
    try:
        mon.register_callback(tool, mon.events.LINE, lambda code, line: None)
        mon.set_events(tool, mon.events.LINE)
        for _ in range(10):
            f()
        mon.set_events(tool, 0)
    finally:
        mon.free_tool_id(tool)
    assert autojit.explain(f, format="dict")["calls"] == 0
    assert autojit._core.resume_if_quiet()
    f()
    assert autojit.explain(f, format="dict")["calls"] == 1


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is new in 3.12")
def test_nothing_is_counted_under_local_monitoring_events(jit):
    # coverage's sysmon core instruments code objects with local events only: the
    # interpreter-wide tool table stays empty, so the hook must look at the code too.
    mon = sys.monitoring
    tool = mon.COVERAGE_ID

    def f():
        return 1

    mon.use_tool_id(tool, "autojit-test")
    try:
        mon.register_callback(tool, mon.events.LINE, lambda code, line: None)
        mon.set_local_events(tool, f.__code__, mon.events.LINE)
        for _ in range(10):
            f()
        mon.set_local_events(tool, f.__code__, 0)
    finally:
        mon.free_tool_id(tool)
    assert autojit.explain(f, format="dict")["calls"] == 0
    assert autojit._core.resume_if_quiet()
    f()
    assert autojit.explain(f, format="dict")["calls"] == 1
