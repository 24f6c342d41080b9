"""Per-module opt-out: enable(exclude=...), autojit.exclude(...), AUTOJIT_EXCLUDE."""

import sys
import textwrap

import pytest

import autojit
from conftest import run_python


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `zzpkg` with a submodule `zzpkg.sub`, and a sibling module `zzpkgx`."""
    src = "def work(x):\n    return x * 2\n"
    (tmp_path / "zzpkg").mkdir()
    (tmp_path / "zzpkg" / "__init__.py").write_text(src)
    (tmp_path / "zzpkg" / "sub.py").write_text(src)
    (tmp_path / "zzpkgx.py").write_text(src)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("zzpkg", "zzpkg.sub", "zzpkgx"):
        sys.modules.pop(name, None)
    import zzpkg
    import zzpkg.sub
    import zzpkgx

    yield zzpkg, zzpkg.sub, zzpkgx
    for name in ("zzpkg", "zzpkg.sub", "zzpkgx"):
        sys.modules.pop(name, None)


def test_prefix_excludes_module_and_submodules_only(package):
    pkg, sub, sibling = package
    autojit.enable(exclude=["zzpkg"])
    try:
        for i in range(20):
            pkg.work(i), sub.work(i), sibling.work(i)
    finally:
        autojit.disable()
    for module in (pkg, sub):
        facts = autojit.explain(module.work, format="dict")
        assert facts["calls"] == 0
        assert facts["excluded_by"] == "zzpkg"
        assert "excluded" in autojit.explain(module.work)
    assert autojit.explain(sibling.work, format="dict")["calls"] == 20
    assert autojit.stats()["code_objects_excluded"] >= 2


def test_exclude_after_first_call_takes_effect(package):
    pkg, sub, sibling = package
    autojit.enable()
    try:
        sub.work(1)
        autojit.exclude("zzpkg.sub")
        sub.work(2)
        pkg.work(1)
    finally:
        autojit.disable()
        autojit.enable(exclude=[])
        autojit.disable()
    assert autojit.explain(sub.work, format="dict")["calls"] == 1
    assert autojit.explain(pkg.work, format="dict")["calls"] == 1


def test_environment_exclude(tmp_path):
    (tmp_path / "zzmod.py").write_text("def work():\n    return 1\n")
    code = textwrap.dedent(
        """
        import autojit, zzmod
        for _ in range(10): zzmod.work()
        print(autojit.explain(zzmod.work, format='dict')['calls'])
        """
    )
    out = run_python(code, env={"AUTOJIT": "1", "AUTOJIT_EXCLUDE": "other,zzmod"}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"
    out = run_python(code, env={"AUTOJIT": "1"}, cwd=tmp_path)
    assert out.stdout.strip() == "10", out.stderr
