#!/usr/bin/env python3
"""Run CPython's own regression tests with and without autojit and compare the results.

    python scripts/run_cpython_tests.py [--python PATH] [--list FILE | TEST ...]
                                        [-j N] [--threshold N] [--timeout SECS] [--seed N]

Runs regrtest (``PATH -m test``, shipped with the interpreter; default PATH: this Python)
on each named test module twice: plain (every AUTOJIT* variable removed), then with
``AUTOJIT=1 AUTOJIT_STATS=1 AUTOJIT_THRESHOLD=N`` -- autojit.pth then enables the JIT in
every Python process started, the processes the tests start included. ``--list FILE`` names
one test module per line; ``#`` starts a comment.

Each module gets its own regrtest process (its tests run in that process, as regrtest's
-j workers do), N of them at a time with ``-j N``, all with the same ``--timeout`` and
``--randseed``. The regrtest process reads AUTOJIT_STATS at start-up and then removes it
from its environment, so that its autojit report (``autojit report`` then ``name  value``
lines, printed at exit) is not also appended to the stderr of every process a test starts,
which tests check. The JIT run's reports are summed: ``calls`` must be above 0.

The runs are compared per module (regrtest's verdict: OK, failed, skipped, env changed, ...,
and the exit status: a crash is a negative status and no results) and per test case
(regrtest's ``--junit-xml``: test id -> pass, failure, error, skipped, expected failure,
unexpected success, or missing). regrtest's XML has blind spots that the module verdict
covers: tests skipped by a decorator and the tests of a class whose setUpClass failed are
absent, and a test whose subtests failed is an unnamed entry ("no result").

Exit status: 0 if the two runs agree and the JIT was active, 1 otherwise. The regrtest logs
and XML files are kept in a temporary directory when the status is 1.
"""

import argparse
import collections
import concurrent.futures
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ModuleRun = collections.namedtuple("ModuleRun", "module returncode seconds log cases verdict")

# `python -m test`, after taking AUTOJIT_STATS out of the environment tests see (the
# variable is read when autojit.pth enables the JIT, before this runs).
REGRTEST = ("import os, runpy; os.environ.pop('AUTOJIT_STATS', None); "
            "runpy.run_module('test', run_name='__main__', alter_sys=True)")

# Child element of <testcase> -> outcome (regrtest's RegressionTestResult).
OUTCOME_TAGS = {"error": "error", "failure": "failure", "skipped": "skipped",
                "output": "expected failure", "outcome": "unexpected success"}


def read_list(path):
    with open(path, encoding="utf-8") as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return [line for line in lines if line]


def testcase_outcomes(xml_text):
    """{test id: (outcome, detail)} from regrtest's JUnit XML."""
    cases = {}
    for index, suite in enumerate(ET.fromstring(xml_text).iter("testsuite")):
        previous = None
        for case in suite.iter("testcase"):
            name = case.get("name")
            if name is None:  # started, never finished: failed subtests
                key = (f"{previous} [the unnamed test case after it]" if previous
                       else f"[unnamed first test case of suite {index}]")
                cases[key] = ("no result, e.g. failed subtests", "")
                continue
            if case.get("classname"):
                name = f"{case.get('classname')}.{name}"
            previous = key = name
            duplicate = 2
            while key in cases:
                key, duplicate = f"{name} #{duplicate}", duplicate + 1
            outcome, detail = "pass", ""
            for tag, text in OUTCOME_TAGS.items():
                element = case.find(tag)
                if element is not None:
                    outcome, detail = text, element.text or element.get("message") or ""
                    break
            for stream in ("system-out", "system-err"):
                element = case.find(stream)
                if outcome != "pass" and element is not None and element.text:
                    detail += f"\n[{stream}]\n{element.text}"
            cases[key] = (outcome, detail.rstrip())
    return cases


def module_verdict(log, module):
    """regrtest's verdict on `module`, from the summary after '== Tests result:'."""
    _, found, summary = log.rpartition("== Tests result:")
    if not found:
        return "no result (regrtest did not finish)"
    verdicts, category = [], None
    for line in summary.splitlines()[1:]:
        header = re.match(r"\d+ (re-run )?tests?( .*)?:$", line)
        if header:
            category = (header[2] or "re-run").strip()
            category = re.sub(r".*\((.*)\)$", r"\1", category)  # "... (env changed)"
        elif line.startswith("    ") and category:
            if module in line.split():
                verdicts.append(category)
        else:
            category = None
    return ", ".join(verdicts) or "OK"


def autojit_reports(log):
    """The counters of every 'autojit report' block in `log`."""
    reports, lines = [], log.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "autojit report":
            continue
        counters = {}
        for row in lines[i + 1:]:
            if row.strip() and set(row.strip()) == {"-"}:
                continue
            pair = re.fullmatch(r"(\w+)\s+(-?\d+|True|False)\s*", row)
            if not pair:
                break
            counters[pair[1]] = int(pair[2]) if pair[2][-1].isdigit() else pair[2]
        reports.append(counters)
    return reports


def describe_status(returncode):
    if returncode is not None and returncode < 0:
        try:
            return f"{returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return "killed: no exit within the runner's timeout" if returncode is None else str(returncode)


def run_module(label, module, args, env, workdir):
    """One regrtest process running `module`."""
    xml_path = os.path.join(workdir, f"{label}-{module}.xml")
    log_path = os.path.join(workdir, f"{label}-{module}.log")
    command = [args.python, "-c", REGRTEST, "--junit-xml", xml_path,
               "--timeout", str(args.timeout), "--randseed", str(args.seed), module]
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log_file:
        try:
            returncode = subprocess.run(command, env=env, cwd=workdir, stdout=log_file,
                                        stderr=subprocess.STDOUT,
                                        timeout=2 * args.timeout + 60).returncode
        except subprocess.TimeoutExpired:
            returncode = None
    seconds = time.monotonic() - start
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    cases = {}
    if os.path.exists(xml_path):
        with open(xml_path, encoding="utf-8") as f:
            cases = testcase_outcomes(f.read())
    run = ModuleRun(module, returncode, seconds, log, cases, module_verdict(log, module))
    print(f"[{label}] {module}: {summarize(run)}, exit status {describe_status(returncode)}, "
          f"{seconds:.1f} s", flush=True)
    return run


def run_all(label, tests, args, env, workdir):
    print(f"[{label}] {args.python} -c <python -m test> --junit-xml FILE --timeout "
          f"{args.timeout} --randseed {args.seed} MODULE, {args.jobs or 1} at a time", flush=True)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.jobs or 1) as pool:
        runs = list(pool.map(lambda m: run_module(label, m, args, env, workdir), tests))
    return {run.module: run for run in runs}, time.monotonic() - start


def summarize(run):
    outcomes = collections.Counter(outcome for outcome, _ in run.cases.values())
    detail = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
    return f"{run.verdict} ({detail or 'no test cases'})"


def indent(text, n=4):
    return "\n".join(" " * n + line for line in text.splitlines())


def compare(plain, jit, limit=200):
    """Every difference between two ModuleRuns of one module, one (multi-line) string each."""
    diffs = []
    if (plain.verdict, plain.returncode) != (jit.verdict, jit.returncode):
        diff = (f"{plain.module}: plain {plain.verdict} (exit status "
                f"{describe_status(plain.returncode)}), JIT {jit.verdict} "
                f"(exit status {describe_status(jit.returncode)})")
        for label, run in (("plain", plain), ("JIT", jit)):
            if run.verdict != "OK" or run.returncode != 0:
                lines = run.log.splitlines()
                if len(lines) > limit:
                    lines = [f"... ({len(lines) - limit} lines before these)"] + lines[-limit:]
                diff += f"\n  {label} regrtest output:\n" + indent("\n".join(lines))
        diffs.append(diff)
    for run, other in ((plain, jit), (jit, plain)):
        if other.cases and not run.cases:
            name = "plain" if run is plain else "JIT"
            diffs.append(f"{run.module}: no test case results in the {name} run "
                         f"({len(other.cases)} in the other run)")
    if not plain.cases or not jit.cases:
        return diffs
    for key in sorted(plain.cases.keys() | jit.cases.keys()):
        before, detail_before = plain.cases.get(key, ("missing", ""))
        after, detail_after = jit.cases.get(key, ("missing", ""))
        if before != after:
            diff = f"{key}: plain {before}, JIT {after}"
            for label, detail in (("plain", detail_before), ("JIT", detail_after)):
                if detail:
                    diff += f"\n  {label}:\n" + indent(detail)
            diffs.append(diff)
    return diffs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*", help="test modules, e.g. test_scope")
    parser.add_argument("--list", help="file naming one test module per line")
    parser.add_argument("--python", default=sys.executable, help="interpreter to test")
    parser.add_argument("-j", "--jobs", type=int, help="test modules run at once")
    parser.add_argument("--threshold", type=int, default=0, help="AUTOJIT_THRESHOLD (default 0)")
    parser.add_argument("--timeout", type=int, default=600, help="regrtest per-test timeout")
    parser.add_argument("--seed", type=int, default=random.randrange(2**32),
                        help="regrtest --randseed, the same for both runs")
    args = parser.parse_args(argv)
    if bool(args.list) == bool(args.tests):
        parser.error("give either --list FILE or test names")
    tests = read_list(args.list) if args.list else args.tests

    plain_env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOJIT")}
    jit_env = dict(plain_env, AUTOJIT="1", AUTOJIT_STATS="1", AUTOJIT_THRESHOLD=str(args.threshold))
    check = subprocess.run([args.python, "-c", "import autojit; print(autojit.supported())"],
                           env=plain_env, capture_output=True, text=True)
    if check.stdout.strip() != "True":
        print(f"autojit is not usable with {args.python}:\n{check.stdout}{check.stderr}")
        return 1

    workdir = tempfile.mkdtemp(prefix="autojit-regrtest-")
    plain, plain_seconds = run_all("plain", tests, args, plain_env, workdir)
    jit, jit_seconds = run_all("jit", tests, args, jit_env, workdir)

    print(f"\n{'module':<24} {'plain':<40} JIT")
    for m in tests:
        print(f"{m:<24} {summarize(plain[m]):<40} {summarize(jit[m])}")

    reports = [r for m in tests for r in autojit_reports(jit[m].log)]
    calls = sum(r.get("calls", 0) for r in reports)
    compiled = [r["compiled"] for r in reports if "compiled" in r]
    print(f"\nautojit: {len(reports)} reports, calls {calls}"
          + (f", compiled {sum(compiled)}" if compiled else ""))
    print(f"time: plain {plain_seconds:.1f} s, JIT {jit_seconds:.1f} s (seed {args.seed})")

    diffs = [diff for m in tests for diff in compare(plain[m], jit[m])]
    if diffs:
        print(f"\n{len(diffs)} differences between the plain and the JIT run:")
        print("\n".join(diffs))
    if calls == 0:
        print("\nFAIL: the JIT run counted no calls: autojit was not active")
    if diffs or calls == 0:
        print(f"\nFAIL (logs kept in {workdir})")
        return 1
    shutil.rmtree(workdir)
    print("\nOK: identical results with and without the JIT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
