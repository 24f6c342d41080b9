"""Whole-program mode: AUTOJIT=1 through the .pth start-up hook, and `python -m autojit`."""

import signal
import sys
import textwrap

import pytest

from conftest import run_python


def test_autojit_env_enables_at_startup():
    out = run_python("import autojit; print(autojit.enabled())", env={"AUTOJIT": "1"})
    assert out.stdout.strip() == "True", out.stderr


@pytest.mark.parametrize("value", ["", "0", "off", "false"])
def test_without_autojit_nothing_is_imported(value):
    env = {"AUTOJIT": value} if value else {}
    out = run_python("import sys; print('autojit' in sys.modules)", env=env)
    assert out.stdout.strip() == "False", out.stderr


def _script(tmp_path, body, name="prog.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _both(tmp_path, script, *args, env=None):
    """Run the script plainly and under `python -m autojit`; return both results."""
    plain = run_python(None, str(script), *args, env=env, cwd=tmp_path)
    jit = run_python(None, "-m", "autojit", str(script), *args, env=env, cwd=tmp_path)
    return plain, jit


def test_argv_main_and_path_are_those_of_plain_python(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 42\n")
    script = _script(
        tmp_path,
        """
        import sys, helper_mod
        print(sys.argv)
        print(__name__, __file__.endswith('prog.py'), helper_mod.VALUE)
        import autojit
        print(autojit.enabled() if 'autojit' in sys.modules else None)
        """,
    )
    plain, jit = _both(tmp_path, script, "a", "--flag", "b c")
    assert plain.returncode == jit.returncode == 0, (plain.stderr, jit.stderr)
    plain_lines, jit_lines = plain.stdout.splitlines(), jit.stdout.splitlines()
    assert plain_lines[:2] == jit_lines[:2]
    assert jit_lines[2] == "True"


@pytest.mark.parametrize("code,status", [("sys.exit(3)", 3), ("sys.exit('bye')", 1), ("pass", 0)])
def test_exit_codes(tmp_path, code, status):
    script = _script(tmp_path, f"import sys\n{code}\n")
    plain, jit = _both(tmp_path, script)
    assert plain.returncode == jit.returncode == status
    assert plain.stderr == jit.stderr


def test_uncaught_exception_traceback_is_identical(tmp_path):
    script = _script(
        tmp_path,
        """
        def inner(x):
            return 1 / x

        def outer():
            return inner(0)

        outer()
        """,
    )
    plain, jit = _both(tmp_path, script)
    assert plain.returncode == jit.returncode == 1
    assert jit.stderr == plain.stderr
    assert "ZeroDivisionError" in jit.stderr


def test_keyboard_interrupt_exit_status(tmp_path):
    script = _script(tmp_path, "raise KeyboardInterrupt\n")
    plain, jit = _both(tmp_path, script)
    assert plain.returncode == jit.returncode == -signal.SIGINT
    assert plain.stderr == jit.stderr


def test_missing_script(tmp_path):
    plain, jit = _both(tmp_path, tmp_path / "nope.py")
    assert plain.returncode == jit.returncode == 2
    assert jit.stderr == plain.stderr


def test_run_module_form(tmp_path):
    (tmp_path / "zzrunme.py").write_text(
        "import sys, autojit\nprint(__name__, sys.argv[1:], autojit.enabled())\n"
    )
    out = run_python(None, "-m", "autojit", "-m", "zzrunme", "x", "y", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "__main__ ['x', 'y'] True"


def test_report_flag(tmp_path):
    script = _script(tmp_path, "def f(): pass\nfor _ in range(5): f()\n")
    out = run_python(None, "-m", "autojit", "--report", str(script), cwd=tmp_path)
    assert out.returncode == 0
    assert "autojit report" in out.stderr
