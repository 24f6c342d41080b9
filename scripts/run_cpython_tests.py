#!/usr/bin/env python3
"""Run CPython's own regression tests with and without autojit and compare the results.

    python scripts/run_cpython_tests.py [--python PATH] [--list FILE | TEST ...]
                                        [-j N] [--threshold N] [--timeout SECS] [--seed N]

Runs ``PATH -m test`` (regrtest, shipped with the interpreter; default PATH: this Python)
on the named test modules twice: plain (every AUTOJIT* variable removed), then with
``AUTOJIT=1 AUTOJIT_STATS=1 AUTOJIT_THRESHOLD=N`` -- autojit.pth then enables the JIT in
every Python process started, regrtest's ``-j`` workers included. Both runs get the same
``--randseed``, ``--timeout`` and ``-j``. ``--list FILE`` names one test module per line;
``#`` starts a comment.

The runs are compared per test case (regrtest's ``--junit-xml``: test id -> pass, failure,
error, skipped, expected failure, unexpected success, or missing), per test module
(regrtest's summary: OK, failed, skipped, env changed, ...) and by regrtest's exit status.
A module whose process crashed has no test cases in the XML and is "failed" (with -j) or
leaves no summary at all (without -j): that is a difference unless the plain run does the
same. regrtest's XML has blind spots, covered by the module verdicts: tests skipped by a
decorator and tests of a class whose setUpClass failed are absent, and a test whose
subtests failed is an unnamed entry (reported as "no result, e.g. failed subtests").

Every autojit report (``autojit report`` then ``name  value`` lines, one per process that
exits normally) in the JIT run's output is summed; ``calls`` must be above 0.

Exit status: 0 if the two runs agree and the JIT was active, 1 otherwise. The regrtest logs
(plain.log, jit.log) and XML files are kept in a temporary directory when the status is 1.
"""

import argparse
import collections
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

Run = collections.namedtuple("Run", "label returncode seconds log cases verdicts")

# Child element of <testcase> -> outcome (regrtest's RegressionTestResult).
OUTCOME_TAGS = {"error": "error", "failure": "failure", "skipped": "skipped",
                "output": "expected failure", "outcome": "unexpected success"}
PROGRESS = re.compile(r"^\d+:\d\d:\d\d .*\[\s*\d+/\d+(/\d+)?\] (\S+)")


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
                key = f"{previous} [the unnamed test case after it]" if previous \
                    else f"[unnamed first test case of suite {index}]"
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


def module_verdicts(log, modules):
    """{module: verdict} from the summary regrtest prints after '== Tests result:'."""
    _, found, summary = log.rpartition("== Tests result:")
    if not found:
        return {m: "no result (regrtest did not finish)" for m in modules}
    verdicts = {m: [] for m in modules}
    category = None
    for line in summary.splitlines()[1:]:
        header = re.match(r"\d+ (re-run )?tests?( .*)?:$", line)
        if header:
            category = (header[2] or "re-run").strip()
            category = re.sub(r".*\((.*)\)$", r"\1", category)  # "... (env changed)"
        elif line.startswith("    ") and category:
            for name in line.split():
                verdicts.setdefault(name, []).append(category)
        else:
            category = None
    return {m: ", ".join(v) or "OK" for m, v in verdicts.items()}


def module_of(test_id, modules):
    for m in modules:
        if test_id.startswith((f"test.{m}.", f"{m}.")):
            return m
    return "?"


def module_output(log, module, limit=80):
    """What regrtest printed while running `module` (from its progress line on)."""
    lines, inside = [], False
    for line in log.splitlines():
        progress = PROGRESS.match(line)
        if progress or line.startswith("== Tests result:"):
            inside = bool(progress) and progress[2] == module
        if inside:
            lines.append(line)
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more lines in the log)"]
    return "\n".join(lines)


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


def run_regrtest(label, args, tests, env, workdir):
    xml_path = os.path.join(workdir, f"{label}.xml")
    log_path = os.path.join(workdir, f"{label}.log")
    command = [args.python, "-m", "test", "--junit-xml", xml_path, "--timeout",
               str(args.timeout), "--randseed", str(args.seed)]
    if args.jobs:
        command += ["-j", str(args.jobs)]
    print(f"[{label}] {' '.join(command + tests)}", flush=True)
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log_file:
        returncode = subprocess.call(command + tests, env=env, cwd=workdir,
                                     stdout=log_file, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    with open(log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    cases = {}
    if os.path.exists(xml_path):
        with open(xml_path, encoding="utf-8") as f:
            cases = testcase_outcomes(f.read())
    print(f"[{label}] exit status {describe_status(returncode)}, {seconds:.1f} s, "
          f"{len(cases)} test cases, log {log_path}", flush=True)
    return Run(label, returncode, seconds, log, cases, module_verdicts(log, tests))


def describe_status(returncode):
    if returncode < 0:
        try:
            return f"{returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return str(returncode)


def compare(plain, jit, modules):
    """Every difference between the two runs, one (multi-line) string each."""
    diffs = []
    if plain.returncode != jit.returncode:
        diffs.append(f"regrtest exit status: plain {describe_status(plain.returncode)}, "
                     f"JIT {describe_status(jit.returncode)}")
    for m in modules:
        if plain.verdicts[m] != jit.verdicts[m]:
            diff = f"{m}: plain {plain.verdicts[m]}, JIT {jit.verdicts[m]}"
            for run in (plain, jit):
                if run.verdicts[m] != "OK":
                    output = module_output(run.log, m) or "(no output found in the log)"
                    diff += f"\n  {run.label} output of {m}:\n" + indent(output, 4)
            diffs.append(diff)
    counts = {run.label: collections.Counter(module_of(k, modules) for k in run.cases)
              for run in (plain, jit)}
    for key in sorted(plain.cases.keys() | jit.cases.keys()):
        m = module_of(key, modules)
        before, detail_before = plain.cases.get(key, ("missing", ""))
        after, detail_after = jit.cases.get(key, ("missing", ""))
        if before == after:
            continue
        if "missing" in (before, after) and 0 in (counts["plain"][m], counts["jit"][m]):
            continue  # a whole module without results: reported once below
        diff = f"{key}: plain {before}, JIT {after}"
        for label, detail in (("plain", detail_before), ("JIT", detail_after)):
            if detail:
                diff += f"\n  {label}:\n" + indent(detail, 4)
        diffs.append(diff)
    for m in sorted(set(counts["plain"]) | set(counts["jit"])):
        for run, other in ((plain, jit), (jit, plain)):
            if counts[other.label][m] and not counts[run.label][m]:
                diffs.append(f"{m}: no test case results in the {run.label} run "
                             f"({counts[other.label][m]} in the {other.label} run)")
    return diffs


def indent(text, n):
    return "\n".join(" " * n + line for line in text.splitlines())


def summarize(run, module):
    outcomes = collections.Counter(o for k, (o, _) in run.cases.items()
                                   if module_of(k, [module]) == module)
    detail = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
    return f"{run.verdicts[module]} ({detail or 'no test cases'})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*", help="test modules, e.g. test_scope")
    parser.add_argument("--list", help="file naming one test module per line")
    parser.add_argument("--python", default=sys.executable, help="interpreter to test")
    parser.add_argument("-j", "--jobs", type=int, help="regrtest worker processes")
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
    plain = run_regrtest("plain", args, tests, plain_env, workdir)
    jit = run_regrtest("jit", args, tests, jit_env, workdir)

    print(f"\n{'module':<24} {'plain':<38} JIT")
    for m in tests:
        print(f"{m:<24} {summarize(plain, m):<38} {summarize(jit, m)}")

    reports = autojit_reports(jit.log)
    calls = sum(r.get("calls", 0) for r in reports)
    compiled = [r["compiled"] for r in reports if "compiled" in r]
    print(f"\nautojit: {len(reports)} reports, calls {calls}"
          + (f", compiled {sum(compiled)}" if compiled else ""))
    print(f"time: plain {plain.seconds:.1f} s, JIT {jit.seconds:.1f} s (seed {args.seed})")

    diffs = compare(plain, jit, tests)
    failed = bool(diffs) or calls == 0
    if diffs:
        print(f"\n{len(diffs)} differences between the plain and the JIT run:")
        print("\n".join(diffs))
    if calls == 0:
        print("\nFAIL: the JIT run counted no calls: autojit was not active")
    if failed:
        print(f"\nFAIL (logs kept in {workdir})")
        return 1
    shutil.rmtree(workdir)
    print("\nOK: identical results with and without the JIT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
