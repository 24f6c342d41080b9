"""The version layer's offsets against the interpreter's own internal headers."""

from autojit import _core


def test_every_mirrored_offset_matches_the_headers():
    truth = dict(_core.interpreter_layout())
    mirror = dict(_core.mirrored_layout())
    assert len(truth) >= 40
    differences = {name: (mirror.get(name), value) for name, value in truth.items() if mirror.get(name) != value}
    assert differences == {}
    assert set(mirror) == set(truth)
    assert _core.layout_mismatches() == []


def test_frame_fields_the_jit_relies_on_are_checked():
    truth = dict(_core.interpreter_layout())
    for field in ("f_code", "previous", "prev_instr", "stacktop", "owner", "localsplus", "f_globals", "frame_obj"):
        assert f"_PyInterpreterFrame.{field}" in truth
    for field in ("co_flags", "co_exceptiontable", "co_linetable", "co_nlocalsplus", "co_stacksize", "co_code_adaptive"):
        assert f"PyCodeObject.{field}" in truth
