"""Observability: explain() in depth, the perf map, verify mode and the compile-event log."""

import json
import logging
import os
import re
import warnings

import pytest

import autojit
from autojit import _core
from conftest import run_python


# --- explain() --------------------------------------------------------------------------------


def test_explain_tier2_variants_name_types_size_time_and_exits(jit):
    def kernel(n, k):
        s = 0.0
        for i in range(n):
            s += i * k
        return s

    kernel(3000, 0.5)
    kernel(3000, 2)
    facts = autojit.explain(kernel, format="dict")
    assert facts["compiled"] and facts["tier"] == 2
    assert facts["compiled_at_call"] == 1  # functions with a loop compile on their first call
    assert facts["code_bytes"] > 0 and facts["compile_ns"] > 0
    assert len(facts["tier2_variants"]) == 2
    first_line = kernel.__code__.co_firstlineno
    for variant, k_type in zip(facts["tier2_variants"], ["float", "int"]):
        types = {name: type_name for name, _, type_name in variant["types"]}
        assert types["n"] == "int" and types["k"] == k_type and types["s"] == "float"
        assert variant["line"] == first_line + 2  # the `for` line
        assert variant["code_bytes"] > 0 and variant["compile_ns"] > 0
        assert variant["entries"] == 1 and variant["compiled_at_backedges"] > 0
        # It left the loop once, at its end, at the `return` line.
        assert [(e["reason"], e["line"], e["times"]) for e in variant["exits"]] == [
            ("loop_exit", first_line + 4, 1)
        ]
    text = autojit.explain(kernel)
    assert f"tier 2: loop at line {first_line + 2}" in text
    assert "arguments n: int, k: float" in text and "arguments n: int, k: int" in text


class Box:
    def __init__(self):
        self.v = 1.5


def test_explain_names_the_instruction_and_type_that_stopped_tier2(jit):
    def attr_loop(n, box):
        s = 0.0
        for i in range(n):
            s += box.v
        return s

    attr_loop(5000, Box())
    facts = autojit.explain(attr_loop, format="dict")
    line = attr_loop.__code__.co_firstlineno + 3
    (variant,) = facts["tier2_variants"]
    assert ("box", "other (kept boxed)", "Box") in variant["types"]
    guard = [e for e in variant["exits"] if e["guard"]]
    assert guard and guard[0]["reason"] == "unsupported" and guard[0]["line"] == line
    assert guard[0]["instruction"] in ("LOAD_ATTR", "LOAD_METHOD")
    assert f"(line {line})" in facts["stopped_by"] and "box: Box" in facts["stopped_by"]
    assert f"(line {line})" in autojit.explain(attr_loop)


def test_explain_says_when_tier1_compiled(jit):
    autojit.enable(threshold=10)

    def small(x):
        return x + 1

    for i in range(15):
        small(i)
    facts = autojit.explain(small, format="dict")
    assert facts["compiled_at_call"] == 11 and facts["tier"] == 1
    assert "compiled to tier 1 at call 11" in autojit.explain(small)


def test_explain_reports_a_refused_compilation():
    out = run_python(
        """
        import autojit
        autojit.enable(threshold=0, code_limit=1)
        def f(x):
            return x
        f(1)
        print(autojit.explain(f, format="dict")["stopped_by"])
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("tier 1 refused it: executable memory refused"), out.stdout


# --- the perf map -----------------------------------------------------------------------------

PERF_PROGRAM = """
import json, os, autojit
{enable}
def kernel(n):
    s = 0.0
    for i in range(n):
        s += i * 0.5
    return s
def small(x):
    return x * 2
for i in range(200):
    small(i)
kernel(5000)
ranges = {{name: autojit._core._code_ranges(f.__code__) for name, f in [("kernel", kernel), ("small", small)]}}
print(json.dumps({{"pid": os.getpid(), "ranges": ranges, "file": __file__ if "__file__" in globals() else "<string>"}}))
"""


def perf_entries(path):
    entries = []
    with open(path) as f:
        for line in f:
            start, size, name = line.rstrip("\n").split(" ", 2)
            entries.append((int(start, 16), int(size, 16), name))
    return entries


@pytest.mark.parametrize("how", ["environment", "keyword"])
def test_perf_map_lists_every_compiled_unit(tmp_path, how):
    enable = "autojit.enable(perf_map=True)" if how == "keyword" else "autojit.enable()"
    env = {"TMPDIR": str(tmp_path)}
    if how == "environment":
        env["AUTOJIT_PERF_MAP"] = "1"
    out = run_python(PERF_PROGRAM.format(enable=enable), env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    path = tmp_path / f"perf-{data['pid']}.map"
    entries = perf_entries(path)
    by_start = {start: (size, name) for start, size, name in entries}
    assert len(by_start) == len(entries), "one line per unit"
    kernel_ranges, small_ranges = data["ranges"]["kernel"], data["ranges"]["small"]
    assert [r[2] for r in small_ranges] == ["tier1"]
    assert sorted(r[2] if isinstance(r[2], str) else r[2][0] for r in kernel_ranges) == ["tier1", "tier2"]
    for qualname, first_line, ranges in [("kernel", 4, kernel_ranges), ("small", 9, small_ranges)]:
        for start, size, unit in ranges:
            assert start in by_start, (qualname, unit)
            assert by_start[start][0] == size
            name = by_start[start][1]
            assert name.startswith(f"py::{qualname}:<string>:{first_line} [")
            if unit == "tier1":
                assert name.endswith("[tier1]")
            else:
                assert name.endswith("[tier2 loop line 6]")
    # Every line is well formed and the units do not overlap.
    spans = sorted((s, s + n) for s, n, _ in entries)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert all(re.fullmatch(r"py::.+:.*:\d+ \[tier(1|2 loop line \d+)\]", name) for _, _, name in entries)


def test_no_perf_map_without_the_option(tmp_path):
    out = run_python(PERF_PROGRAM.format(enable="autojit.enable()"), env={"TMPDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ranges"]["small"]  # code was compiled
    assert list(tmp_path.iterdir()) == []


def test_perf_map_of_a_forked_child_has_the_parents_units(tmp_path):
    out = run_python(
        """
        import os, autojit
        autojit.enable(perf_map=True, threshold=0)
        def f(x):
            return x + 1
        f(1)
        pid = os.fork()
        if pid == 0:
            def g(x):
                return x - 1
            g(1)
            os._exit(0)
        os.waitpid(pid, 0)
        print(os.getpid(), pid)
        """,
        env={"TMPDIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    parent, child = out.stdout.split()
    parent_names = [n for _, _, n in perf_entries(tmp_path / f"perf-{parent}.map")]
    child_names = [n for _, _, n in perf_entries(tmp_path / f"perf-{child}.map")]
    assert any(n.startswith("py::f:") for n in parent_names)
    assert not any(n.startswith("py::<module>.g:") or n.startswith("py::g:") for n in parent_names)
    assert any(n.startswith("py::f:") for n in child_names) and any(n.startswith("py::g:") for n in child_names)


# --- verify mode ------------------------------------------------------------------------------


@pytest.fixture
def verify():
    autojit.reset_stats()
    autojit.enable(verify=True, threshold=0)
    try:
        # Verify mode also checks pytest's own code here (threshold 0); what it finds there
        # is not this test's business.
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always", autojit.VerifyWarning)
            yield autojit
    finally:
        _core._verify_corrupt_next(None)
        autojit.disable()
        autojit.enable(verify=False)
        autojit.disable()


def test_verify_checks_ordinary_functions(verify):
    def arith(a, b):
        return (a * b + 0.1) / 3, a // 7, a % 7

    def mutates(xs, *rest, scale, **extra):
        xs.append(sum(rest) * scale)
        extra.pop("drop", None)
        return len(xs), sorted(extra)

    def raises(d, key):
        return d[key]

    def loop(n, k):
        s = 0.0
        for i in range(n):
            s += (i * k) ** 0.5
        return s

    before = autojit.stats()["verified_calls"]
    for i in range(5):
        assert arith(i + 10, 2.5) == ((((i + 10) * 2.5 + 0.1) / 3), (i + 10) // 7, (i + 10) % 7)
        xs = [1.0]
        assert mutates(xs, 1, 2, scale=0.5, drop=1, keep=2) == (2, ["keep"])
        assert xs == [1.0, 1.5]
        with pytest.raises(KeyError):
            raises({"a": 1}, "b")
        loop(2000, 0.25)
    for fn in (arith, mutates, raises, loop):
        facts = autojit.explain(fn, format="dict")
        assert facts["compiled"] and not facts["sent_back"], fn.__name__
        # verify_calls (3) per function, more for each tier-2 variant compiled.
        expected = 3 * (1 + len(facts["tier2_variants"]))
        assert facts["verify"]["checked"] == min(5, expected), (fn.__name__, facts["verify"])
        assert "call(s) checked against the interpreter" in autojit.explain(fn)
    assert autojit.stats()["verified_calls"] - before >= 12
    # The reference runs are not counted as calls.
    assert autojit.explain(arith, format="dict")["calls"] == 5


def test_verify_finds_a_wrong_result_warns_and_sends_the_function_back(verify):
    def triple(x):
        return x * 3

    _core._verify_corrupt_next(triple.__code__)
    with pytest.warns(autojit.VerifyWarning) as caught:
        warnings.simplefilter("always", autojit.VerifyWarning)
        wrong = triple(2)
    assert wrong == 7  # what the "miscompiled" code returned
    (warning,) = caught
    message = str(warning.message)
    assert "triple" in message and "result" in message and "interpreter 6, compiled 7" in message
    assert warning.filename == __file__  # attributed to the caller
    assert issubclass(autojit.VerifyWarning, RuntimeWarning)
    compiled_calls = _core.stats()["compiled_calls"]
    results = []
    for _ in range(5):
        results.append(triple(2))
    assert results == [6] * 5
    assert _core.stats()["compiled_calls"] == compiled_calls  # never compiled again
    facts = autojit.explain(triple, format="dict")
    assert not facts["compiled"] and facts["tier"] == 0 and "interpreter 6, compiled 7" in facts["sent_back"]
    assert "sent back to the interpreter for good" in autojit.explain(triple)
    assert autojit.stats()["sent_back"] >= 1


def test_verify_mismatch_in_a_tier2_loop_function(verify):
    def total(n):
        s = 0.0
        for i in range(n):
            s += i * 0.5
        return s

    _core._verify_corrupt_next(total.__code__)
    with pytest.warns(autojit.VerifyWarning, match="floats differ"):
        warnings.simplefilter("always", autojit.VerifyWarning)
        total(3000)
    assert autojit.explain(total, format="dict")["sent_back"]
    assert total(3000) == sum(i * 0.5 for i in range(3000))


def test_verify_mismatch_as_an_error_raises_from_the_call(verify):
    def f(x):
        return x + 1

    _core._verify_corrupt_next(f.__code__)
    with warnings.catch_warnings():
        warnings.simplefilter("error", autojit.VerifyWarning)
        with pytest.raises(autojit.VerifyWarning):
            f(1)
    assert f(1) == 2


G = 0


def test_verify_skips_what_it_cannot_replay(verify):
    import threading

    def writes_global():
        global G
        G += 1
        return G

    def prints(x):
        print(x, end="")
        return x

    def takes_lock(lock):
        with lock:
            return 1

    before = G
    for _ in range(3):
        writes_global()
        prints("")
        takes_lock(threading.Lock())
    assert G == before + 3  # no replay wrote the global
    facts = autojit.explain(writes_global, format="dict")
    assert facts["verify"]["checked"] == 0 and "writes the global 'G'" in facts["verify"]["never"]
    assert "not checkable: it writes the global 'G'" in autojit.explain(writes_global)
    assert "print" in autojit.explain(prints, format="dict")["verify"]["never"]
    lock_facts = autojit.explain(takes_lock, format="dict")["verify"]
    assert lock_facts["skipped"] == 3 and "not deep-copyable" in lock_facts["skip_reason"]
    assert "not deep-copyable" in autojit.explain(takes_lock)


def test_verify_shows_the_functions_warnings_once(verify):
    def warns(x):
        warnings.warn("careful", UserWarning)
        return x

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warns(1)
    assert [str(w.message) for w in caught] == ["careful"]
    assert autojit.explain(warns, format="dict")["verify"]["checked"] == 1


def test_verify_option_from_the_environment():
    out = run_python(
        """
        import autojit
        autojit.enable(threshold=0)
        def f(x):
            return x * 2
        for i in range(10):
            f(i)
        o = autojit.options()
        print(o["verify"], o["verify_calls"], autojit.explain(f, format="dict")["verify"]["checked"])
        """,
        env={"AUTOJIT_VERIFY": "1", "AUTOJIT_VERIFY_CALLS": "5"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "5", "5"]


# --- the compile-event log ----------------------------------------------------------------------


LOG_PROGRAM = """
import logging, warnings, autojit
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append((record.autojit_event, record.getMessage()))
logger = logging.getLogger("autojit")
logger.addHandler(Keep())
logger.setLevel(logging.DEBUG)
warnings.simplefilter("ignore")
autojit.enable(threshold=0, verify=True)
def kernel(n):
    s = 0.0
    for i in range(n):
        s += i * 0.5
    return s
kernel(3000)
def small(x):
    return x + 1
autojit._core._verify_corrupt_next(small.__code__)
small(1)
autojit.enable(threshold=0, code_limit=1)
def late(x):
    return x
late(1)
for event, message in records:
    print(event, "|", message)
"""


def test_compile_events_are_logged_at_debug():
    out = run_python(LOG_PROGRAM)
    assert out.returncode == 0, out.stderr
    lines = [line.split(" | ", 1) for line in out.stdout.splitlines()]
    events = {}
    for event, message in lines:
        events.setdefault(event, []).append(message)
    assert any(m.startswith("tier 1 compiled kernel:<string>:12 at call 1:") for m in events["tier1_compiled"])
    assert any("loop at line 14 of kernel:<string>:12" in m for m in events["tier2_compiled"])
    assert any(m.startswith("small:<string>:18 sent back to the interpreter") for m in events["sent_back"])
    assert any(m.startswith("tier 1 refused late:<string>:23") for m in events["tier1_refused"])
    assert events["code_limit"] == ["code memory cap reached (code_limit=1 bytes): new code stays interpreted"]


def test_compile_events_are_silent_and_cheap_by_default():
    out = run_python(
        """
        import logging, autojit
        calls = []
        original = logging.Logger.debug
        def counting(self, *args, **kwargs):
            calls.append(args)
            return original(self, *args, **kwargs)
        logging.Logger.debug = counting
        autojit.enable(threshold=0)
        def f(x):
            return x + 1
        for i in range(10):
            f(i)
        print(autojit.stats()["compiled"] > 0, len(calls))
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "0"]  # no record is even built
    assert out.stderr == ""


LOG = []


def log_append(x):
    LOG.append(x)
    return len(LOG)


class Counted:
    total = 0

    def bump(self):
        type(self).total += 1
        return self


def set_on_class(cls, value):
    cls.marker = value
    return value


def test_verify_never_runs_shared_state_twice(verify):
    seen = []

    def outer(n):
        def note(v):
            seen.append(v)
            return v

        return [note(i) for i in range(n)]

    def calls_helper(x):
        return log_append(x)

    class K:
        pass

    LOG.clear()
    for i in range(3):
        outer(2)
        calls_helper(i)
        Counted().bump()
        set_on_class(K, i)
        sum(iter([1, 2, 3]))
    # Every effect on state the copies cannot hold happened once per call.
    assert seen == [0, 1] * 3
    assert LOG == [0, 1, 2]
    assert Counted.total == 3
    assert K.marker == 2
    for fn in (calls_helper, Counted.bump, set_on_class):
        facts = autojit.explain(fn, format="dict")
        assert facts["verify"]["checked"] == 0 and not facts["sent_back"], (fn, facts["verify"])
