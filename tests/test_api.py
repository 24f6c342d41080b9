"""The public API: enable/disable/enabled, options and their validation, stats, explain."""

import warnings

import pytest

import autojit
from autojit import _core
from conftest import run_python


def test_supported_here():
    # The suite runs on the supported versions; anything else is covered by
    # scripts/check_unsupported.py.
    assert autojit.supported(), _core.layout_mismatches()


def test_enable_disable_enabled():
    assert not autojit.enabled()
    autojit.enable()
    try:
        assert autojit.enabled()
        autojit.enable()  # enabling twice is harmless
        assert autojit.enabled()
    finally:
        autojit.disable()
    assert not autojit.enabled()
    autojit.disable()  # and so is disabling twice
    assert not autojit.enabled()


def test_options_reach_the_hook():
    autojit.enable(threshold=7, loop_threshold=9, exclude=["zz_nowhere"])
    try:
        opts = autojit.options()
        assert opts["threshold"] == 7
        assert opts["loop_threshold"] == 9
        assert opts["exclude"] == ["zz_nowhere"]
    finally:
        autojit.disable()
        autojit.enable()
        autojit.disable()


@pytest.mark.parametrize("value", [-1, -100])
def test_negative_threshold_is_a_value_error(value):
    with pytest.raises(ValueError, match="threshold"):
        autojit.enable(threshold=value)
    assert not autojit.enabled()


def test_unknown_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'thresold'"):
        autojit.enable(thresold=3)
    assert not autojit.enabled()


@pytest.mark.parametrize("value", ["10", 1.5, True, None])
def test_threshold_of_the_wrong_type(value):
    with pytest.raises(TypeError, match="threshold"):
        autojit.enable(threshold=value)


def test_exclude_validates_module_names():
    with pytest.raises(ValueError):
        autojit.enable(exclude=["not a module"])
    with pytest.raises(TypeError):
        autojit.exclude(3)
    with pytest.raises(ValueError):
        autojit.exclude("a..b")


def test_options_help_lists_every_option_with_its_variable():
    table = {row["name"]: row for row in autojit.options_help()}
    assert {"threshold", "loop_threshold", "exclude", "stats_at_exit"} <= set(table)
    for name, row in table.items():
        assert f"AUTOJIT_{name.upper()}" in row["env"]
        assert row["help"]


def test_foreign_frame_evaluation_function_is_refused():
    _core._install_foreign_hook(True)
    try:
        with pytest.raises(RuntimeError, match="another frame-evaluation function"):
            autojit.enable()
        assert not autojit.enabled()
    finally:
        _core._install_foreign_hook(False)
    autojit.enable()
    assert autojit.enabled()
    autojit.disable()


def test_disable_leaves_a_foreign_hook_installed_after_ours():
    autojit.enable()
    _core._install_foreign_hook(True)
    try:
        autojit.disable()
        assert not autojit.enabled()
        with pytest.raises(RuntimeError):
            autojit.enable()
    finally:
        _core._install_foreign_hook(False)


def test_stats_keys_and_reset():
    autojit.reset_stats()
    s = autojit.stats()
    for key in ("calls", "frames_seen", "code_objects_seen", "code_objects_excluded", "enabled"):
        assert key in s
    assert s["calls"] == 0


def test_explain_text_and_dict(jit):
    def target(x):
        return x + 1

    assert "not seen" in autojit.explain(target)
    for i in range(5):
        target(i)
    facts = autojit.explain(target, format="dict")
    assert facts["calls"] == 5
    assert facts["eligibility"] == "eligible"
    assert facts["name"].endswith("target")
    text = autojit.explain(target)
    assert "calls counted: 5" in text
    with pytest.raises(ValueError):
        autojit.explain(target, format="xml")
    with pytest.raises(TypeError):
        autojit.explain(len)


def test_explain_accepts_methods_and_wrappers(jit):
    import functools

    class K:
        def method(self):
            return 1

        @staticmethod
        def static():
            return 2

        @classmethod
        def klass(cls):
            return 3

    k = K()
    k.method(), K.static(), K.klass()
    assert autojit.explain(k.method, format="dict")["calls"] == 1
    assert autojit.explain(K.static, format="dict")["calls"] == 1
    assert autojit.explain(K.__dict__["klass"], format="dict")["calls"] == 1

    @functools.wraps(K.method)
    def wrapper(*a):
        return K.method(*a)

    assert autojit.explain(wrapper, format="dict")["name"].endswith("wrapper")
    assert autojit.explain(functools.partial(K.static), format="dict")["calls"] == 1


# --- environment variables -------------------------------------------------------------


def test_environment_variables_set_options():
    out = run_python(
        "import autojit; autojit.enable(); print(autojit.options())",
        env={"AUTOJIT_THRESHOLD": "5", "AUTOJIT_LOOP_THRESHOLD": "6", "AUTOJIT_EXCLUDE": "a.b, c"},
    )
    assert out.returncode == 0, out.stderr
    assert "'threshold': 5" in out.stdout
    assert "'loop_threshold': 6" in out.stdout
    assert "'exclude': ['a.b', 'c']" in out.stdout


def test_keywords_win_over_environment():
    out = run_python(
        "import autojit; autojit.enable(threshold=9); print(autojit.options()['threshold'])",
        env={"AUTOJIT_THRESHOLD": "5"},
    )
    assert out.stdout.strip() == "9", out.stderr


def test_malformed_environment_warns_once_and_uses_default():
    out = run_python(
        """
        import autojit
        autojit.enable()
        print(autojit.options()['threshold'], autojit.enabled())
        """,
        env={"AUTOJIT_THRESHOLD": "abc"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["100", "True"]
    assert out.stderr.count("AUTOJIT_THRESHOLD") == 1
    assert "non-negative integer" in out.stderr


def test_malformed_environment_at_startup_never_crashes():
    out = run_python(
        "import autojit; print(autojit.enabled(), autojit.options()['threshold'])",
        env={"AUTOJIT": "1", "AUTOJIT_THRESHOLD": "abc", "AUTOJIT_STATS": "maybe"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "100"]
    assert out.stderr.count("AUTOJIT_THRESHOLD") == 1
    assert out.stderr.count("AUTOJIT_STATS") == 1


def test_stats_at_exit_report():
    out = run_python("def f(): pass\nfor i in range(10): f()", env={"AUTOJIT": "1", "AUTOJIT_STATS": "1"})
    assert out.returncode == 0
    assert "autojit report" in out.stderr
    assert any(line.split()[:1] == ["calls"] and int(line.split()[1]) >= 10 for line in out.stderr.splitlines())


def test_code_limit_keeps_new_code_interpreted():
    out = run_python(
        """
        import autojit
        autojit.enable(threshold=0, code_limit=1)
        def f(x):
            return x + 1
        assert f(1) == 2
        s = autojit.stats()
        print(s["compiled"], s["code_limit_refusals"] > 0, autojit.explain(f, format="dict")["compiled"])
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "True", "False"]
