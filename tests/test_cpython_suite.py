"""CPython's own regression tests with and without the JIT (scripts/run_cpython_tests.py).

The suite run is slow and marked ``cpython_suite``: deselect it with ``-m "not cpython_suite"``.
The other tests check the runner's comparison on crafted regrtest output.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "scripts" / "run_cpython_tests.py"


@pytest.mark.cpython_suite
@pytest.mark.parametrize("selection", ["hook.txt", "tier1.txt"])
def test_cpython_modules_give_identical_results_with_the_jit(selection):
    """Every function compiled on its first call (the runner sets AUTOJIT_THRESHOLD=0)."""
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--list", str(ROOT / "tests" / "cpython_suite" / selection), "-j", "2"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(result.stdout, result.stderr)
    status = result.returncode
    assert status == 0, "the plain and JIT runs differ, or the JIT was not active: see the output"


def test_the_aarch64_selection_is_part_of_tier1():
    """scripts/test-arm64.sh runs arm64.txt under qemu: a subset of tier 1's selection."""
    r = _runner()
    suite = ROOT / "tests" / "cpython_suite"
    arm64, tier1 = r.read_list(suite / "arm64.txt"), r.read_list(suite / "tier1.txt")
    assert arm64 and len(set(arm64)) == len(arm64)
    assert set(arm64) <= set(tier1), set(arm64) - set(tier1)


def _runner():
    spec = importlib.util.spec_from_file_location("run_cpython_tests", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _xml(*cases):
    return f"<testsuites><testsuite>{''.join(cases)}</testsuite></testsuites>"


def _case(name, child=""):
    return f'<testcase name="test.test_x.T.{name}" status="run" result="completed">{child}</testcase>'


PASSED = "\n== Tests result: SUCCESS ==\n\n1 test OK.\n"
FAILED = "\n== Tests result: FAILURE ==\n\n1 test failed:\n    test_x\n"


def test_comparison_reports_every_changed_outcome():
    r = _runner()
    plain = r.testcase_outcomes(_xml(_case("a"), _case("b"), _case("c", "<skipped>no</skipped>"), _case("d")))
    jit = r.testcase_outcomes(
        _xml(
            _case("a"),
            "<testcase />",  # a test whose subtests failed
            _case("c", '<failure message="boom">Traceback: boom</failure>'),
            _case("d", '<error message="bad">Traceback: bad</error>'),
        )
    )
    plain_run = r.ModuleRun("test_x", 0, 1.0, PASSED, plain, r.module_verdict(PASSED, "test_x"))
    jit_run = r.ModuleRun("test_x", 2, 1.0, FAILED, jit, r.module_verdict(FAILED, "test_x"))
    assert r.compare(plain_run, plain_run) == []
    diffs = r.compare(plain_run, jit_run)
    assert [d.splitlines()[0] for d in diffs] == [
        "test_x: plain OK (exit status 0), JIT failed (exit status 2)",
        "test.test_x.T.a [the unnamed test case after it]: plain missing, JIT no result, e.g. failed subtests",
        "test.test_x.T.b: plain pass, JIT missing",
        "test.test_x.T.c: plain skipped, JIT failure",
        "test.test_x.T.d: plain pass, JIT error",
    ]
    assert "Traceback: boom" in diffs[3]


def test_a_crash_is_a_difference_unless_both_runs_crash():
    r = _runner()
    passed = r.ModuleRun("test_x", 0, 1.0, PASSED, r.testcase_outcomes(_xml(_case("a"))), "OK")
    crashed = r.ModuleRun("test_x", -11, 1.0, "Fatal Python error", {}, r.module_verdict("Fatal", "test_x"))
    assert [d.splitlines()[0] for d in r.compare(passed, crashed)] == [
        "test_x: plain OK (exit status 0), JIT no result (regrtest did not finish) (exit status -11 (SIGSEGV))",
        "test_x: no test case results in the JIT run (1 in the other run)",
    ]
    assert r.compare(crashed, crashed) == []


def test_module_verdicts_and_autojit_reports_are_parsed():
    r = _runner()
    log = (
        "== Tests result: FAILURE ==\n\n"
        "1 test altered the execution environment (env changed):\n    test_x\n\n"
        "2 tests failed:\n    test_x test_y\n\n1 test OK.\n"
        "autojit report\n" + "-" * 40 + "\ncalls      12\ncompiled   3\nenabled    True\n"
        "autojit report\n" + "-" * 40 + "\ncalls      30\n"
    )
    assert r.module_verdict(log, "test_x") == "env changed, failed"
    assert r.module_verdict(log, "test_z") == "OK"
    assert r.autojit_reports(log) == [{"calls": 12, "compiled": 3, "enabled": "True"}, {"calls": 30}]
