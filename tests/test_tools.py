"""Debuggers, tracers, profilers and coverage started in the middle of a run, from inside a
function running compiled code (tier 1, and a tier-2 loop), see exactly what they see without
autojit: tests/tool_script.py runs once plain and once with the JIT, and the events, line sets
and call counts must be equal."""

import json
import os
import subprocess
import sys

import pytest

from conftest import PYTHON

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tool_script.py")

PDB_COMMANDS = {
    # Step out of start() into the compiled caller and on through it.
    "tier1": "n\nn\nn\np a\nn\nn\np b\nn\np c\nc\n",
    "tier2": "n\nn\nn\np i\nn\nn\nn\np s\nc\n",
}


def run(tool, where, jit, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOJIT", "COVERAGE"))}
    env.pop("PYTHONBREAKPOINT", None)
    env.update(extra_env or {})
    if jit:
        env["TOOL_JIT"] = "1"
    out = subprocess.run(
        [PYTHON, SCRIPT, tool, where],
        input=PDB_COMMANDS[where] if tool == "pdb" else None,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    return out


def split_pdb(stdout):
    at = stdout.rindex('{"results"')
    return stdout[:at], stdout[at:]


def compare(tool, where, extra_env=None):
    plain = run(tool, where, False, extra_env)
    jitted = run(tool, where, True, extra_env)
    if tool == "pdb":
        # pdb's own output (locations, printed values), then the program's JSON line.
        plain_text, plain_json = split_pdb(plain.stdout)
        jit_text, jit_json = split_pdb(jitted.stdout)
        assert jit_text == plain_text
        assert plain_text.count("(Pdb)") >= 8
    else:
        plain_json, jit_json = plain.stdout, jitted.stdout
    plain_data, jit_data = json.loads(plain_json), json.loads(jit_json)
    assert jit_data["results"] == plain_data["results"]
    assert jit_data["events"] == plain_data["events"]
    if tool != "pdb":
        assert plain_data["events"], "the tool saw nothing: the test would prove nothing"
    # The tool really was started from compiled code.
    proof = jit_data["proof"][where]
    assert proof["compiled"]
    if where == "tier1":
        assert proof["compiled_calls"] > 0
    else:
        assert proof["tier2_entries"] > 0
    return plain_data, jit_data


WHERE = ["tier1", "tier2"]


@pytest.mark.parametrize("where", WHERE)
def test_settrace_started_in_compiled_code(where):
    plain, _ = compare("settrace", where)
    # The frame that started tracing is traced from the next line on (pdb-style f_trace).
    names = {e[1] for e in plain["events"] if e[0] == "line"}
    assert ("work" if where == "tier1" else "loop") in names


@pytest.mark.parametrize("where", WHERE)
def test_setprofile_started_in_compiled_code(where):
    compare("setprofile", where)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is new in 3.12")
@pytest.mark.parametrize("where", WHERE)
def test_sys_monitoring_started_in_compiled_code(where):
    plain, _ = compare("monitoring", where)
    # The running frame gets line events right away (monitoring has no per-frame switch).
    names = {e[1] for e in plain["events"] if e[0] == "line"}
    assert ("work" if where == "tier1" else "loop") in names


@pytest.mark.parametrize("where", WHERE)
def test_cprofile_started_in_compiled_code(where):
    plain, _ = compare("cprofile", where)
    assert any(e[0] == "helper" for e in plain["events"])


@pytest.mark.parametrize("where", WHERE)
def test_coverage_started_in_compiled_code(where):
    import coverage  # noqa: F401  (a test dependency: its absence is a failure, not a skip)

    compare("coverage", where, {"COVERAGE_CORE": "pytrace"})
    compare("coverage", where, {"COVERAGE_CORE": "ctrace"})


@pytest.mark.skipif(sys.version_info < (3, 12), reason="coverage's sys.monitoring core needs 3.12")
@pytest.mark.parametrize("where", WHERE)
def test_coverage_sysmon_started_in_compiled_code(where):
    import coverage  # noqa: F401

    compare("coverage", where, {"COVERAGE_CORE": "sysmon"})


@pytest.mark.parametrize("where", WHERE)
def test_pdb_breakpoint_in_compiled_code(where):
    compare("pdb", where)
