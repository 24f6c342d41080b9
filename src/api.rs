//! The functions `autojit._core` exports. Argument checking and conversion live here; the
//! work is done by the modules they call.

use crate::options::{self, OPTIONS};
use crate::stats::STATS;
use crate::{cpython, exclusion};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// True when this build has a version layer for the running Python and it matches the
/// interpreter's headers.
fn supported() -> bool {
    cfg!(autojit_supported) && cpython::layout::mismatches().is_empty()
}

/// Enable the JIT with the given `enable()` keywords; returns the options in force, or None
/// (after checking the options) when this Python is not supported.
#[pyfunction]
#[pyo3(signature = (keywords=None))]
fn enable<'py>(py: Python<'py>, keywords: Option<&Bound<'py, PyDict>>) -> PyResult<Option<Bound<'py, PyDict>>> {
    let mut opts = options::from_environment(py)?;
    options::apply_keywords(&mut opts, keywords)?;
    for prefix in &opts.exclude {
        options::validate_module_prefix(prefix)?;
    }
    if !supported() {
        return Ok(None);
    }
    install(py, opts).map(Some)
}

#[cfg(autojit_supported)]
fn install<'py>(py: Python<'py>, opts: options::Options) -> PyResult<Bound<'py, PyDict>> {
    use crate::hook::{self, InstallOutcome};
    let main = unsafe {
        crate::cpython::ffi::PyInterpreterState_Get() == crate::cpython::ffi::PyInterpreterState_Main()
    };
    if !main {
        return Err(PyRuntimeError::new_err("autojit runs in the main interpreter only"));
    }
    crate::codestate::init().map_err(PyRuntimeError::new_err)?;
    if let InstallOutcome::Foreign(address) = hook::install() {
        return Err(PyRuntimeError::new_err(format!(
            "autojit cannot be enabled: another frame-evaluation function (PEP 523) is \
             installed at {address:#x} (a debugger or another JIT?); disable it first"
        )));
    }
    let dict = opts.to_dict(py)?;
    options::install(opts);
    Ok(dict)
}

#[cfg(not(autojit_supported))]
fn install<'py>(_py: Python<'py>, _opts: options::Options) -> PyResult<Bound<'py, PyDict>> {
    Err(PyRuntimeError::new_err("autojit: this Python is not supported"))
}

/// Remove the hook; returns whether it was installed.
#[pyfunction]
fn disable() -> bool {
    #[cfg(autojit_supported)]
    {
        crate::hook::uninstall()
    }
    #[cfg(not(autojit_supported))]
    {
        false
    }
}

#[pyfunction]
fn enabled() -> bool {
    #[cfg(autojit_supported)]
    {
        crate::hook::enabled()
    }
    #[cfg(not(autojit_supported))]
    {
        false
    }
}

/// Add module prefixes to the exclusion list.
#[pyfunction]
fn exclude(py: Python<'_>, prefixes: Vec<String>) -> PyResult<()> {
    for prefix in &prefixes {
        options::validate_module_prefix(prefix)?;
    }
    exclusion::add(prefixes);
    let mut current = options::current(py)?;
    current.exclude = exclusion::prefixes();
    *options::CURRENT.lock() = Some(current);
    Ok(())
}

/// Re-arm the hook if it stepped aside for tracing that has ended; returns whether it did.
#[pyfunction]
fn resume_if_quiet() -> bool {
    #[cfg(autojit_supported)]
    {
        crate::hook::resume_if_quiet()
    }
    #[cfg(not(autojit_supported))]
    {
        false
    }
}

/// For measurements: compile hot code (the default) or only count it (the bare hook).
#[pyfunction]
fn _set_compile(on: bool) {
    #[cfg(autojit_supported)]
    {
        crate::hook::COMPILE.store(on, std::sync::atomic::Ordering::Relaxed);
        crate::tier1::calls::invalidate_call_caches();
    }
    let _ = on;
}

/// For measurements: tier 2 keeps its most used values in registers (the default) or not.
#[pyfunction]
fn _set_register_homes(on: bool) {
    #[cfg(autojit_supported)]
    crate::tier2::REGISTER_HOMES.store(on, std::sync::atomic::Ordering::Relaxed);
    let _ = on;
}

/// For measurements and tests: tier 2's pow shortcuts (`x ** 2` without calling pow) on (the
/// default, where the C library's pow has a known error bound) or off.
#[pyfunction]
fn _set_pow_shortcuts(on: bool) {
    crate::libm::set_pow_shortcuts(on);
}

/// Whether code compiled now uses the pow shortcuts (off with a C library other than
/// glibc >= 2.28).
#[pyfunction]
fn _pow_shortcuts() -> bool {
    crate::libm::pow_shortcuts()
}

/// Interpreter shutdown: stop background activity.
#[pyfunction]
fn _shutdown() {
    #[cfg(autojit_supported)]
    crate::hook::shutdown();
}

/// In a forked child.
#[pyfunction]
fn _after_fork_in_child() {
    #[cfg(autojit_supported)]
    crate::hook::after_fork_in_child();
}

#[pyfunction]
fn stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    #[cfg(autojit_supported)]
    {
        dict.set_item("hook_installed", crate::hook::installed())?;
        dict.set_item("suspended_for_tracing", crate::hook::suspended())?;
    }
    dict.set_item(
        "exits",
        crate::stats::exits_by_reason().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    )?;
    dict.set_item(
        "fallbacks_by_opcode",
        crate::stats::fallbacks_by_opcode().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    )?;
    for (name, value) in STATS.snapshot() {
        dict.set_item(name, value)?;
    }
    Ok(dict)
}

#[pyfunction]
fn reset_stats() {
    STATS.reset();
    crate::stats::reset_fallbacks();
    crate::stats::reset_exits();
}

/// The options in force, as a dict.
#[pyfunction]
fn current_options(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    options::current(py)?.to_dict(py)
}

/// The options table: (name, environment variables, default, help) for each option.
#[pyfunction]
fn options_table(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let list = PyList::empty(py);
    for spec in OPTIONS {
        let mut env = vec![format!("AUTOJIT_{}", spec.name.to_ascii_uppercase())];
        env.extend(spec.env_aliases.iter().map(|s| s.to_string()));
        list.append((spec.name, env, spec.default, spec.help))?;
    }
    Ok(list)
}

/// What autojit knows of a code object, as a dict; None if the hook never saw it.
#[pyfunction]
fn code_info<'py>(py: Python<'py>, code: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
    if unsafe { pyo3::ffi::PyCode_Check(code.as_ptr()) } == 0 {
        return Err(PyTypeError::new_err("code_info() expects a code object"));
    }
    #[cfg(autojit_supported)]
    {
        if crate::codestate::init().is_err() {
            return Ok(None);
        }
        let state = unsafe { crate::codestate::get(code.as_ptr()) };
        if state.is_null() {
            return Ok(None);
        }
        let state = unsafe { &*state };
        let dict = PyDict::new(py);
        dict.set_item("calls", state.calls)?;
        dict.set_item("backedges", state.backedges)?;
        dict.set_item("eligibility", format!("{:?}", state.eligibility).to_lowercase())?;
        dict.set_item("eligibility_text", state.eligibility.describe())?;
        dict.set_item("module", state.module.clone())?;
        dict.set_item("excluded_by", state.excluded_by.clone())?;
        dict.set_item("hot", state.hot)?;
        dict.set_item("has_loop", state.has_loop)?;
        dict.set_item("compile_error", state.compile_error.clone())?;
        let loops = state.tier2.as_ref().map(|t| t.loops.len()).unwrap_or(0);
        dict.set_item("tier2_loops", loops)?;
        let mut variants = Vec::new();
        let mut failures = Vec::new();
        if let Some(t2) = state.tier2.as_ref() {
            for unit in &t2.loops {
                variants.push(variant_info(py, unit)?);
            }
            for (header, key, why) in &t2.failures {
                let types: Vec<String> = key.iter().map(|t| t.describe()).collect();
                failures.push((*header, why.clone(), types));
            }
            dict.set_item("tier2_variant_limit_hits", t2.variant_limit_hits)?;
        }
        dict.set_item("tier2_variants", variants)?;
        dict.set_item("tier2_failures", failures)?;
        dict.set_item("sent_back", state.sent_back.clone())?;
        let verify = PyDict::new(py);
        verify.set_item("checked", state.verify.checked)?;
        verify.set_item("skipped", state.verify.skipped)?;
        verify.set_item("skip_reason", state.verify.skip_reason.clone())?;
        verify.set_item("never", state.verify.never.clone())?;
        dict.set_item("verify", verify)?;
        // Sent back: the retired code still describes what was compiled.
        match state.compiled.as_deref().or(state.retired.last().map(|c| &**c)) {
            Some(compiled) => {
                dict.set_item("compiled", state.compiled.is_some())?;
                dict.set_item("tier", if state.compiled.is_none() { 0 } else if loops > 0 { 2 } else { 1 })?;
                dict.set_item("compiled_at_call", state.compiled_at_call)?;
                dict.set_item("code_bytes", compiled.block.len())?;
                dict.set_item("compile_ns", compiled.compile_ns)?;
                dict.set_item("fallbacks", compiled.fallbacks.clone())?;
                let sites: Vec<(&str, usize)> =
                    compiled.fallbacks.iter().copied().zip(compiled.fallback_starts.iter().copied()).collect();
                dict.set_item("fallback_sites", sites)?;
            }
            None => {
                dict.set_item("compiled", false)?;
                dict.set_item("tier", 0)?;
            }
        }
        Ok(Some(dict))
    }
    #[cfg(not(autojit_supported))]
    {
        let _ = py;
        Ok(None)
    }
}

/// One tier-2 loop variant, as a dict (explain()).
#[cfg(autojit_supported)]
fn variant_info<'py>(py: Python<'py>, unit: &crate::tier2::LoopCode) -> PyResult<Bound<'py, PyDict>> {
    use std::sync::atomic::Ordering::Relaxed;
    let info = PyDict::new(py);
    info.set_item("header", unit.header)?;
    info.set_item("types", unit.key.iter().map(|t| t.describe()).collect::<Vec<_>>())?;
    info.set_item("type_names", unit.type_names.clone())?;
    info.set_item("code_bytes", unit.block.len())?;
    info.set_item("compile_ns", unit.compile_ns)?;
    info.set_item("compiled_at_backedges", unit.compiled_at_backedges)?;
    info.set_item("entries", unit.entries.load(Relaxed))?;
    info.set_item("guard_exits", unit.guard_exits.load(Relaxed))?;
    info.set_item("abandoned", unit.disabled())?;
    // Exits taken, by reason and instruction: (reason, opname, code unit, counted, times).
    let exits: Vec<(&str, &str, usize, bool, u64)> = unit
        .exit_maps
        .iter()
        .filter(|m| m.taken.load(Relaxed) > 0)
        .map(|m| (m.reason, m.site.1, m.site.0, m.counted, m.taken.load(Relaxed)))
        .collect();
    info.set_item("exits", exits)?;
    Ok(info)
}

/// For tests and tools: the machine-code ranges of a code object's compiled units, as
/// (start, size, unit) with unit "tier1" or ("tier2", loop header in code units).
#[pyfunction]
fn _code_ranges<'py>(py: Python<'py>, code: &Bound<'py, PyAny>) -> PyResult<Vec<(usize, usize, Bound<'py, PyAny>)>> {
    let mut ranges = Vec::new();
    #[cfg(autojit_supported)]
    unsafe {
        if pyo3::ffi::PyCode_Check(code.as_ptr()) == 0 {
            return Err(PyTypeError::new_err("_code_ranges() expects a code object"));
        }
        let state = crate::codestate::get(code.as_ptr());
        if !state.is_null() {
            let state = &*state;
            if let Some(compiled) = state.compiled.as_deref() {
                ranges.push((compiled.block.start() as usize, compiled.block.len(), "tier1".into_pyobject(py)?.into_any()));
            }
            for unit in state.tier2.iter().flat_map(|t| t.loops.iter()) {
                let tag = ("tier2", unit.header).into_pyobject(py)?.into_any();
                ranges.push((unit.block.start() as usize, unit.block.len(), tag));
            }
        }
    }
    #[cfg(not(autojit_supported))]
    let _ = (py, code);
    Ok(ranges)
}

/// Start (path) or stop (None) appending compiled units to a perf map.
#[pyfunction]
#[pyo3(signature = (path=None))]
fn _perf_map(path: Option<String>) -> PyResult<()> {
    #[cfg(autojit_supported)]
    match path {
        Some(path) => crate::observe::open_perf_map(&path)
            .map_err(|e| PyRuntimeError::new_err(format!("autojit: cannot open the perf map {path}: {e}")))?,
        None => crate::observe::close_perf_map(),
    }
    #[cfg(not(autojit_supported))]
    let _ = path;
    Ok(())
}

/// Verify mode's reference run: `func(*args, **kwargs)` entirely in the interpreter.
#[pyfunction]
#[pyo3(signature = (func, args, kwargs=None))]
fn _interpreted<'py>(
    func: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    #[cfg(autojit_supported)]
    {
        crate::verify::interpreted(func, args, kwargs)
    }
    #[cfg(not(autojit_supported))]
    {
        func.call(args, kwargs)
    }
}

/// For tests of verify mode: the next checked compiled result of `code` is replaced by a
/// different object (standing in for a wrong compilation); None cancels.
#[pyfunction]
fn _verify_corrupt_next(code: Option<&Bound<'_, PyAny>>) {
    #[cfg(autojit_supported)]
    crate::verify::CORRUPT.store(code.map_or(0, |c| c.as_ptr() as usize), std::sync::atomic::Ordering::Relaxed);
    let _ = code;
}

/// Differences between the version layer and the interpreter's headers (empty when right).
#[pyfunction]
fn layout_mismatches() -> Vec<String> {
    cpython::layout::mismatches()
}

/// The interpreter's own layout, as the C shim reports it from the internal headers.
#[pyfunction]
fn interpreter_layout() -> Vec<(String, i64)> {
    cpython::layout::interpreter_layout()
}

/// The version layer's constants: (name, value).
#[pyfunction]
fn mirrored_layout() -> Vec<(String, i64)> {
    #[cfg(autojit_supported)]
    {
        cpython::CHECKED.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }
    #[cfg(not(autojit_supported))]
    {
        Vec::new()
    }
}

/// For tests: install (or remove) a pass-through frame-evaluation function that is not ours,
/// standing in for a debugger or another JIT.
#[pyfunction]
fn _install_foreign_hook(install: bool) -> PyResult<()> {
    #[cfg(autojit_supported)]
    unsafe {
        use crate::cpython::ffi::*;
        unsafe extern "C" fn foreign(
            tstate: *mut pyo3::ffi::PyThreadState,
            frame: *mut crate::cpython::InterpreterFrame,
            throwflag: std::os::raw::c_int,
        ) -> *mut pyo3::ffi::PyObject {
            crate::cpython::eval_default(tstate, frame, throwflag)
        }
        let interp = PyInterpreterState_Get();
        if install {
            _PyInterpreterState_SetEvalFrameFunc(interp, foreign);
        } else if _PyInterpreterState_GetEvalFrameFunc(interp) as usize == (foreign as EvalFrameFn) as usize {
            _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
        }
        Ok(())
    }
    #[cfg(not(autojit_supported))]
    {
        let _ = install;
        Err(PyRuntimeError::new_err("not supported"))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    #[cfg(autojit_supported)]
    {
        crate::bytecode::opcodes::init(m.py())?;
        crate::hook::init_runtime(m.py())?;
    }
    m.add_function(wrap_pyfunction!(_install_foreign_hook, m)?)?;
    m.add_function(wrap_pyfunction!(enable, m)?)?;
    m.add_function(wrap_pyfunction!(disable, m)?)?;
    m.add_function(wrap_pyfunction!(enabled, m)?)?;
    m.add_function(wrap_pyfunction!(exclude, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(resume_if_quiet, m)?)?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(_set_compile, m)?)?;
    m.add_function(wrap_pyfunction!(_set_register_homes, m)?)?;
    m.add_function(wrap_pyfunction!(_set_pow_shortcuts, m)?)?;
    m.add_function(wrap_pyfunction!(_pow_shortcuts, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(reset_stats, m)?)?;
    m.add_function(wrap_pyfunction!(current_options, m)?)?;
    m.add_function(wrap_pyfunction!(options_table, m)?)?;
    m.add_function(wrap_pyfunction!(code_info, m)?)?;
    m.add_function(wrap_pyfunction!(_code_ranges, m)?)?;
    m.add_function(wrap_pyfunction!(_perf_map, m)?)?;
    m.add_function(wrap_pyfunction!(_interpreted, m)?)?;
    m.add_function(wrap_pyfunction!(_verify_corrupt_next, m)?)?;
    m.add_function(wrap_pyfunction!(layout_mismatches, m)?)?;
    m.add_function(wrap_pyfunction!(interpreter_layout, m)?)?;
    m.add_function(wrap_pyfunction!(mirrored_layout, m)?)?;
    m.add("SUPPORTED", supported())?;
    let py = m.py();
    #[cfg(autojit_supported)]
    let layer = Some(PyTuple::new(py, [cpython::VERSION.0, cpython::VERSION.1])?);
    #[cfg(not(autojit_supported))]
    let layer: Option<Bound<'_, PyTuple>> = {
        let _ = py;
        None
    };
    m.add("VERSION_LAYER", layer)?;
    Ok(())
}
