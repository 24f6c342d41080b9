"""Per-code state lives exactly as long as its code object."""

import gc
import resource

import autojit


def _fresh_function(i):
    # A distinct code object each time (the constant differs).
    namespace = {}
    exec(compile(f"def f():\n    return {i}\n", f"<fresh {i}>", "exec"), namespace)
    return namespace["f"]


def test_state_is_freed_with_the_code_object(jit):
    gc.collect()
    live_before = autojit.stats()["code_objects_live"]
    f = _fresh_function(-1)
    f()
    assert autojit.stats()["code_objects_live"] > live_before
    del f
    gc.collect()
    assert autojit.stats()["code_objects_live"] <= live_before + 1  # the exec'd module code may linger


def test_no_leak_over_100k_short_lived_functions(jit):
    def churn(start, count):
        for i in range(start, start + count):
            _fresh_function(i)()

    churn(0, 5_000)  # warm up allocator pools
    gc.collect()
    live_before = autojit.stats()["code_objects_live"]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seen_before = autojit.stats()["code_objects_seen"]
    churn(5_000, 100_000)
    gc.collect()
    s = autojit.stats()
    assert s["code_objects_seen"] - seen_before >= 200_000  # each function and each exec'd module
    assert s["code_objects_live"] - live_before < 100
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert rss_growth_kib < 20_000, rss_growth_kib
