//! Tier 2: type-specialized machine code for hot loops, entered by on-stack replacement.
//!
//! Tier-1 code counts a loop's back-edges; every `loop_threshold` of them it asks `osr_entry`
//! for tier-2 code for that loop, specialized on the types the frame holds right then
//! (arguments, locals, the loop's iterator). Tier-2 code keeps numbers unboxed (floats and
//! numpy float64 scalars as doubles, ints as int64) in a spill area on the machine stack,
//! and compiles the loop by basic-block versioning: a block is compiled once per abstract
//! state reaching it, so a loop whose types settle after one iteration gets a peeled first
//! iteration instead of a type merge.
//!
//! Everything it cannot prove exact is an exit: the exit map boxes every live unboxed value
//! into the frame, in CPython's types and with the identity of the objects the interpreter
//! would hold, and jumps into tier-1 code at that instruction. The frame is again the single
//! source of truth, and tier 1 (or the interpreter) finishes the instruction as CPython does.

mod compile;
pub mod exits;
pub mod numpy;
pub mod state;

use crate::cpython::{self, InterpreterFrame};
use crate::stats::STATS;
use pyo3::prelude::*;
use pyo3_ffi::PyThreadState;
use state::EntryKey;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Tier 1 asks for tier-2 code every `loop_threshold` back-edges, rounded up to a power of
/// two so the check is a mask: this is the mask (fixed into code when tier 1 compiles).
pub fn osr_mask() -> i32 {
    let threshold = crate::options::LOOP_THRESHOLD.load(Relaxed).clamp(1, 1 << 30);
    (threshold.next_power_of_two() - 1) as i32
}
/// Variants kept per loop header; past that the loop stays in tier 1.
pub const MAX_VARIANTS: usize = 4;
/// Guard exits after which a variant is abandoned (no exit storm).
pub const MAX_GUARD_EXITS: u32 = 64;

/// A name resolved at compile time: `name` looked up as a global, or as an attribute of
/// `module`, must still be the object at `expected`.
pub struct Assumption {
    pub name: Py<PyAny>,
    pub module: Option<Py<PyAny>>,
    pub expected: usize,
}

/// A compiled loop variant.
pub struct LoopCode {
    pub header: usize,
    pub key: EntryKey,
    pub block: crate::codemem::CodeBlock,
    /// Names the code resolved at compile time and the objects they must still be: a global
    /// (module None) or an attribute of a module.
    pub assumptions: Vec<Assumption>,
    pub uses_numpy: bool,
    pub guard_exits: Box<AtomicU32>,
    pub exit_maps: Vec<Box<exits::ExitMap>>,
    pub entry_map: Box<exits::EntryMap>,
    pub compile_ns: u64,
    /// The Python type names of the frame's values at compile time (explain()).
    pub type_names: Vec<String>,
    /// The code's loop back-edges counted when this variant was compiled (explain()).
    pub compiled_at_backedges: u64,
    /// Entries into this variant.
    pub entries: std::sync::atomic::AtomicU64,
}

impl LoopCode {
    pub fn disabled(&self) -> bool {
        self.guard_exits.load(Relaxed) >= MAX_GUARD_EXITS
    }
}

/// Per-code-object tier-2 state.
#[derive(Default)]
pub struct Tier2State {
    pub loops: Vec<Box<LoopCode>>,
    /// Headers whose compilation failed, with the reason (not retried for the same key).
    pub failures: Vec<(usize, EntryKey, String)>,
    /// Back-edges asking for a loop whose variant limit was reached.
    pub variant_limit_hits: u64,
    /// Per loop header: requests to skip before asking again, and the next back-off.
    pub backoff: Vec<Backoff>,
}

/// After a request for a loop that gave no tier-2 code (a type key refused or abandoned,
/// no more variants, an exit right away), the next 1, 2, 4, ... up to `MAX_BACKOFF` requests
/// for that loop return at once: a request classifies the whole frame, and tier-1 loops
/// tier 2 cannot take ask every `loop_threshold` back-edges.
pub struct Backoff {
    pub header: usize,
    pub skip: u32,
    pub next: u32,
}

/// The longest back-off, in requests.
pub const MAX_BACKOFF: u32 = 64;

/// `osr_entry`'s answer when Python code it ran raised: tier 1 raises it at the back-edge.
pub const OSR_ERROR: usize = 1;

/// Called by tier-1 code at a back-edge to `header` (code units) with the frame's stack at
/// `depth`: the address of tier-2 code to jump to, 0 to stay in tier 1, or `OSR_ERROR` with
/// an exception set.
pub unsafe extern "C" fn osr_entry(tstate: *mut PyThreadState, frame: *mut InterpreterFrame, header: u64, depth: u64) -> usize {
    if !ENABLED.load(Relaxed) {
        return 0;
    }
    let code = cpython::frame_code(frame);
    let state = crate::codestate::get(code);
    if state.is_null() {
        return 0;
    }
    if let Some(tier2) = (*state).tier2.as_mut() {
        if let Some(b) = tier2.backoff.iter_mut().find(|b| b.header == header as usize) {
            if b.skip > 0 {
                b.skip -= 1;
                return 0;
            }
        }
    }
    let result = osr_request(tstate, frame, header, depth);
    // (The frame keeps the code, and so its state, alive.)
    let tier2 = (*state).tier2.get_or_insert_with(Default::default);
    let at = tier2.backoff.iter().position(|b| b.header == header as usize);
    match (result, at) {
        (0, Some(i)) => {
            let b = &mut tier2.backoff[i];
            b.next = (b.next * 2).min(MAX_BACKOFF);
            b.skip = b.next;
        }
        (0, None) => tier2.backoff.push(Backoff { header: header as usize, skip: 1, next: 1 }),
        (OSR_ERROR, _) => {}
        (_, Some(i)) => {
            tier2.backoff.swap_remove(i);
        }
        (_, None) => {}
    }
    result
}

unsafe fn osr_request(_tstate: *mut PyThreadState, frame: *mut InterpreterFrame, header: u64, depth: u64) -> usize {
    let py = Python::assume_attached();
    let code = cpython::frame_code(frame);
    let state = crate::codestate::get(code);
    if state.is_null() {
        return 0;
    }
    let state = &mut *state;
    let Some(tier1) = state.compiled.as_deref() else { return 0 };
    let header = header as usize;
    // numpy's layout is checked once, by running numpy's Python code: a signal's handler may
    // run in it, and its exception goes to the program.
    if let Err(error) = numpy::prepare(py) {
        error.restore(py);
        return OSR_ERROR;
    }
    let _no_python_code = crate::gc_pause::GcPaused::new();
    let Some(key) = state::observe(py, frame, code, depth as u32) else { return 0 };
    let tier2 = state.tier2.get_or_insert_with(Default::default);
    let found = tier2.loops.iter().find(|l| l.header == header && l.key == key);
    let code_ref = match found {
        Some(existing) => existing,
        None => {
            if tier2.loops.iter().filter(|l| l.header == header).count() >= MAX_VARIANTS {
                tier2.variant_limit_hits += 1;
                return 0;
            }
            if tier2.failures.iter().any(|(h, k, _)| *h == header && *k == key) {
                return 0;
            }
            match compile::compile_loop(py, frame, code, tier1, header, depth as u32, key.clone()) {
                Ok(mut compiled) => {
                    STATS.compiled_tier2.incr();
                    STATS.compile_ns.add(compiled.compile_ns);
                    compiled.type_names = state::type_names(frame, code, depth as u32);
                    compiled.compiled_at_backedges = state.backedges;
                    crate::observe::loop_compiled(py, code, &compiled);
                    tier2.loops.push(Box::new(compiled));
                    tier2.loops.last().unwrap()
                }
                Err(why) => {
                    STATS.compile_failures.incr();
                    crate::observe::loop_refused(py, code, header, &why);
                    tier2.failures.push((header, key, why));
                    return 0;
                }
            }
        }
    };
    drop(_no_python_code);
    if code_ref.disabled() || !assumptions_hold(py, frame, code_ref) {
        return 0;
    }
    if code_ref.uses_numpy {
        let Some(np) = numpy::get(py) else { return 0 };
        // Read without running Python code on numpy 2 (on numpy 1 np.geterr() runs, and a
        // pending signal's handler may run in it and raise).
        match np.errstate_is_default(py) {
            Ok(true) => {}
            Ok(false) => return 0,
            Err(error) => {
                error.restore(py);
                return OSR_ERROR;
            }
        }
        // Other threads may have run meanwhile: check the assumptions again.
        if !assumptions_hold(py, frame, code_ref) {
            return 0;
        }
    }
    STATS.tier2_entries.incr();
    code_ref.entries.store(code_ref.entries.load(Relaxed) + 1, Relaxed);
    code_ref.block.start() as usize
}

/// The globals the code resolved still resolve to the same objects.
unsafe fn assumptions_hold(py: Python<'_>, frame: *mut InterpreterFrame, code: &LoopCode) -> bool {
    code.assumptions.iter().all(|a| match &a.module {
        None => state::lookup_global(py, frame, a.name.bind(py).as_ptr()) == a.expected,
        Some(module) => state::module_attribute(module.as_ptr(), a.name.as_ptr()) == a.expected,
    })
}

/// Tier 2 on or off (an option; on by default).
pub static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Keep the most used spill slots in registers (on by default; off to measure what it buys).
pub static REGISTER_HOMES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
