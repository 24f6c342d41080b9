//! Observability for external tools: the perf map and compile-event logging.
//!
//! Both act only on compile events (rare, already slow), never on the hook's per-call path.
//! With the `perf_map` option on, every compiled unit is appended to `perf-<pid>.map` in the
//! temp directory as `START SIZE name` (hex), the format `perf report` reads for JIT code.
//! Compile events go to `logging.getLogger("autojit")` at DEBUG; when the `logging` module
//! was never imported or the logger is not enabled for DEBUG, an event costs a dict lookup.

use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use pyo3_ffi::PyObject;
use std::io::Write;

/// The perf map: off, wanted (the option is on; lines wait until the file is opened, as code
/// compiles from the moment the hook is installed), or open.
enum PerfMap {
    Off,
    Pending(Vec<String>),
    Open(std::fs::File),
}

static PERF_MAP: Mutex<PerfMap> = Mutex::new(PerfMap::Off);

/// The `perf_map` option was set: keep the lines of units compiled from now on.
pub fn want_perf_map(on: bool) {
    let mut map = PERF_MAP.lock();
    match (&*map, on) {
        (PerfMap::Off, true) => *map = PerfMap::Pending(Vec::new()),
        (_, false) => *map = PerfMap::Off,
        _ => {}
    }
}

/// Start appending compiled units to the perf map at `path` (with the lines kept so far).
pub fn open_perf_map(path: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    let mut map = PERF_MAP.lock();
    if let PerfMap::Pending(lines) = &*map {
        file.write_all(lines.concat().as_bytes())?;
    }
    *map = PerfMap::Open(file);
    Ok(())
}

pub fn close_perf_map() {
    *PERF_MAP.lock() = PerfMap::Off;
}

/// `qualname:file:line` of a code object.
pub fn code_label(py: Python<'_>, code: *mut PyObject) -> String {
    let code = unsafe { Bound::from_borrowed_ptr(py, code) };
    let text = |attr: &str| code.getattr(attr).and_then(|v| v.str().map(|s| s.to_string())).unwrap_or_else(|_| "?".into());
    format!("{}:{}:{}", text("co_qualname"), text("co_filename"), text("co_firstlineno"))
}

/// Append one compiled unit to the perf map (if it is on). `tag` says which tier.
pub fn perf_map_add(py: Python<'_>, code: *mut PyObject, start: usize, size: usize, tag: &str) {
    let mut map = PERF_MAP.lock();
    if let PerfMap::Off = &*map {
        return;
    }
    let line = format!("{start:x} {size:x} py::{} [{tag}]\n", code_label(py, code));
    match &mut *map {
        // One write per line: perf may read the file while we append.
        PerfMap::Open(file) => {
            let _ = file.write_all(line.as_bytes());
        }
        PerfMap::Pending(lines) => lines.push(line),
        PerfMap::Off => {}
    }
}

/// The "autojit" logger if a DEBUG record would be handled by it, else None. Without the
/// `logging` module imported nothing can be configured to listen: no import is forced.
///
/// Whether DEBUG is enabled is read from plain attributes (`Logger.manager.disable`, the
/// logger's `disabled` and `level`, else the root logger's level), as `isEnabledFor`
/// computes it, without running any Python code: running bytecode here would let a pending
/// signal's handler run inside autojit's compile step, where its exception (a
/// KeyboardInterrupt, say) would be lost to the program.
fn debug_logger(py: Python<'_>) -> Option<Bound<'_, PyAny>> {
    const DEBUG: i64 = 10;
    let modules = unsafe { pyo3_ffi::PySys_GetObject(c"modules".as_ptr()) };
    if modules.is_null() {
        return None;
    }
    let modules = unsafe { Bound::from_borrowed_ptr(py, modules) };
    let logging = modules.cast::<PyDict>().ok()?.get_item("logging").ok()??;
    let manager = logging.getattr("Logger").ok()?.getattr("manager").ok()?;
    if manager.getattr("disable").ok()?.extract::<i64>().ok()? >= DEBUG {
        return None;
    }
    let existing = manager.getattr("loggerDict").ok()?.cast::<PyDict>().ok()?.get_item("autojit").ok()?;
    let mut level = 0;
    if let Some(logger) = existing.as_ref().filter(|l| l.hasattr("level").unwrap_or(false)) {
        if logger.getattr("disabled").ok()?.is_truthy().ok()? {
            return None;
        }
        level = logger.getattr("level").ok()?.extract::<i64>().ok()?;
    }
    if level == 0 {
        level = logging.getattr("root").ok()?.getattr("level").ok()?.extract::<i64>().ok()?;
    }
    if level > DEBUG {
        return None;
    }
    // Someone listens: now the logging machinery may run.
    logging.call_method1("getLogger", ("autojit",)).ok()
}

/// Log a compile event at DEBUG: `event` (also the record's `autojit_event` attribute) and
/// the message built by `message` (only when someone listens). Never raises: a failing
/// handler is reported as unraisable, a KeyboardInterrupt is re-armed for the eval loop.
pub fn log(py: Python<'_>, event: &str, message: impl FnOnce() -> String) {
    // With work pending for the eval loop (a signal's handler, say), running the logging
    // machinery's Python code would run that handler here, inside a compile step, where its
    // exception could not reach the program: the event is not logged.
    let breaker = crate::hook::eval_breaker_address();
    if breaker != 0 && unsafe { std::ptr::read_volatile(breaker as *const i32) } != 0 {
        return;
    }
    // The logging machinery is not the program's code: not counted, not compiled.
    crate::hook::aside(|| log_aside(py, event, message))
}

fn log_aside(py: Python<'_>, event: &str, message: impl FnOnce() -> String) {
    let saved = PyErr::take(py);
    if let Some(logger) = debug_logger(py) {
        let extra = PyDict::new(py);
        let _ = extra.set_item("autojit_event", event);
        let kwargs = PyDict::new(py);
        let _ = kwargs.set_item("extra", extra);
        let text = PyString::new(py, &message());
        if let Err(error) = logger.call_method("debug", ("%s", text), Some(&kwargs)) {
            if error.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
                unsafe { pyo3_ffi::PyErr_SetInterrupt() };
            } else {
                error.write_unraisable(py, None);
            }
        }
    }
    // Errors while looking the logger up are not the program's business.
    let _ = PyErr::take(py);
    if let Some(saved) = saved {
        saved.restore(py);
    }
}

/// Tier 1 compiled `code`.
pub fn function_compiled(py: Python<'_>, code: *mut PyObject, compiled: &crate::tier1::Compiled, calls: u64) {
    perf_map_add(py, code, compiled.block.start() as usize, compiled.block.len(), "tier1");
    log(py, "tier1_compiled", || {
        format!(
            "tier 1 compiled {} at call {calls}: {} bytes in {:.3} ms, {} fallback instruction(s)",
            code_label(py, code),
            compiled.block.len(),
            compiled.compile_ns as f64 / 1e6,
            compiled.fallbacks.len()
        )
    });
}

/// Tier 1 refused `code` (it stays interpreted).
pub fn function_refused(py: Python<'_>, code: *mut PyObject, why: &str) {
    cap_event(py);
    log(py, "tier1_refused", || format!("tier 1 refused {}: {why}", code_label(py, code)));
}

/// Tier 2 compiled a loop variant.
pub fn loop_compiled(py: Python<'_>, code: *mut PyObject, unit: &crate::tier2::LoopCode) {
    let line = header_line(py, code, unit.header);
    perf_map_add(py, code, unit.block.start() as usize, unit.block.len(), &format!("tier2 loop line {line}"));
    log(py, "tier2_compiled", || {
        format!(
            "tier 2 compiled the loop at line {line} of {} for ({}): {} bytes in {:.3} ms",
            code_label(py, code),
            unit.type_names.iter().filter(|t| !t.is_empty()).cloned().collect::<Vec<_>>().join(", "),
            unit.block.len(),
            unit.compile_ns as f64 / 1e6
        )
    });
}

/// Tier 2 refused a loop variant (the loop stays in tier 1).
pub fn loop_refused(py: Python<'_>, code: *mut PyObject, header: usize, why: &str) {
    cap_event(py);
    log(py, "tier2_refused", || {
        format!("tier 2 refused the loop at line {} of {}: {why}", header_line(py, code, header), code_label(py, code))
    });
}

/// A function was sent back to the interpreter for good.
pub fn sent_back(py: Python<'_>, code: *mut PyObject, why: &str) {
    log(py, "sent_back", || format!("{} sent back to the interpreter for good: {why}", code_label(py, code)));
}

/// The code memory cap was reached since the last event (logged once per time it fills).
fn cap_event(py: Python<'_>) {
    if crate::codemem::take_cap_event() {
        let limit = crate::codemem::CODE_LIMIT.load(std::sync::atomic::Ordering::Relaxed);
        log(py, "code_limit", || {
            format!("code memory cap reached (code_limit={limit} bytes): new code stays interpreted")
        });
    }
}

/// The source line of the instruction at code unit `start` (0 if unknown).
pub fn header_line(py: Python<'_>, code: *mut PyObject, start: usize) -> i64 {
    let code = unsafe { Bound::from_borrowed_ptr(py, code) };
    let offset = 2 * start as i64;
    let Ok(lines) = code.call_method0("co_lines").and_then(|l| l.try_iter()) else { return 0 };
    for item in lines.flatten() {
        if let Ok((begin, end, line)) = item.extract::<(i64, i64, Option<i64>)>() {
            if begin <= offset && offset < end {
                return line.unwrap_or(0);
            }
        }
    }
    0
}
