//! Direct calls between compiled functions.
//!
//! A CALL whose callee is a Python function with compiled code does not go back through
//! CPython's call machinery (`PyObject_Vectorcall` → `_PyFunction_Vectorcall` →
//! `_PyEval_Vector` → the PEP 523 hook): it pushes and initializes the callee's frame on the
//! thread's data stack exactly as `_PyEvalFramePushAndInit` would, moving the caller's
//! stack references into it, and runs the compiled code through `entry::run`, the same
//! path the hook takes. Any case this does not cover (keywords, `*args`, a full data-stack
//! chunk, tracing, a callee not compiled yet) takes the ordinary path, which behaves the
//! same, only slower.
//!
//! Each CALL site has a `CallCache`: when the path above enters a callee directly, it
//! records what it checked (the callee's code, the argument count, the compiled entry, the
//! frame size) with the current `EPOCH`. The site's machine code then calls the direct-call
//! routine (`direct_call_routine`, machine code generated once), which re-checks everything
//! that can change from call to call (the callee's code, the epoch, the frame-evaluation
//! function, tracing, the C stack, the recursion budget, room on the data stack) and does the
//! whole call itself: push and initialize the frame, run the compiled code, clear and pop the
//! frame. Anything unusual (an exit into the interpreter, a frame object) goes back to the
//! Rust functions below; a failed check changes nothing and takes the path above.

use super::entry;
use crate::codestate::{self, Eligibility};
use crate::cpython::{self, field, InterpreterFrame};
use crate::stats::STATS;
use pyo3_ffi::{PyObject, PyThreadState, Py_INCREF, Py_TYPE};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Changes whenever something a call-site cache relies on may have changed: a code object
/// with state freed, compiled code retired, eligibility or the exclusion list changed,
/// compilation switched on or off, verify mode, a thread stepping aside. A cache filled under
/// another epoch is ignored.
pub static EPOCH: AtomicU64 = AtomicU64::new(1);

/// Make every call-site cache miss (see `EPOCH`).
pub fn invalidate_call_caches() {
    EPOCH.fetch_add(1, Relaxed);
}

/// One CALL site's cache (empty while `code` is null): the callee's code object (borrowed:
/// a code object with state bumps the epoch when it dies), the argument count with which the
/// direct path applied (the code's `co_argcount`), the epoch, the compiled entry, the frame's
/// size in bytes, `co_nlocalsplus`, and the address of the code state's call counter.
#[repr(C)]
pub struct CallCache {
    code: *mut PyObject,
    total: u64,
    epoch: u64,
    entry: usize,
    frame_bytes: u64,
    nlocalsplus: u64,
    state_calls: *mut u64,
}

impl CallCache {
    pub fn new() -> Box<CallCache> {
        Box::new(CallCache {
            code: std::ptr::null_mut(),
            total: 0,
            epoch: 0,
            entry: 0,
            frame_bytes: 0,
            nlocalsplus: 0,
            state_calls: std::ptr::null_mut(),
        })
    }
}

/// What the direct-call routine returns when a check fails (nothing consumed).
pub const MISS: u64 = 1;

extern "C" {
    static mut PyMethod_Type: pyo3_ffi::PyTypeObject;
    fn _Py_CheckFunctionResult(
        tstate: *mut PyThreadState,
        callable: *mut PyObject,
        result: *mut PyObject,
        where_: *const std::os::raw::c_char,
    ) -> *mut PyObject;
}

/// `co_flags` bits that need argument packing the direct path does not do.
const CO_VARARGS: i32 = 0x4;
const CO_VARKEYWORDS: i32 = 0x8;

/// CALL without keyword names. `slots` = `[method or NULL, callable or self, args...]`, all
/// consumed, as `runtime::call` takes them.
pub unsafe extern "C" fn call_positional(
    tstate: *mut PyThreadState,
    slots: *mut *mut PyObject,
    nargs: u64,
    cache: *mut CallCache,
) -> *mut PyObject {
    let mut method = *slots;
    let mut callable = *slots.add(1);
    // A bound method object: call its function with `self` first, as CALL does.
    if method.is_null() && Py_TYPE(callable) == std::ptr::addr_of_mut!(PyMethod_Type) {
        let func = *field::<*mut PyObject>(callable.cast(), cpython::METHOD_IM_FUNC);
        let self_ = *field::<*mut PyObject>(callable.cast(), cpython::METHOD_IM_SELF);
        Py_INCREF(func);
        Py_INCREF(self_);
        *slots = func;
        *slots.add(1) = self_;
        pyo3_ffi::Py_DECREF(callable);
        method = func;
        callable = self_;
    }
    let (func, args, total) = if method.is_null() {
        (callable, slots.add(2), nargs as usize)
    } else {
        (method, slots.add(1), nargs as usize + 1)
    };
    if Py_TYPE(func) == std::ptr::addr_of_mut!(pyo3_ffi::PyFunction_Type) {
        if let Some(result) = try_direct(tstate, func, args, total, cache) {
            return result;
        }
    } else if func == list_append_descriptor() && total == 2 && pyo3_ffi::PyList_CheckExact(*args) != 0 {
        // `items.append(x)` on an exact list, as CPython's CALL_NO_KW_LIST_APPEND.
        let status = pyo3_ffi::PyList_Append(*args, *args.add(1));
        release(slots, nargs);
        return if status < 0 { std::ptr::null_mut() } else { pyo3_ffi::Py_NewRef(pyo3_ffi::Py_None()) };
    }
    if total == 1 && func == std::ptr::addr_of_mut!(pyo3_ffi::PyUnicode_Type).cast() && is_plain_scalar(*args) {
        // `str(x)` of an exact int, float or str: what str's constructor does for one
        // argument (`unicode_new`: PyObject_Str), with nothing else to run (an exact str
        // result: no subclass __init__), as CPython's CALL_NO_KW_STR_1.
        let result = pyo3_ffi::PyObject_Str(*args);
        release(slots, nargs);
        return result;
    }
    // Anything else through its vectorcall entry with this thread's state, as
    // `_PyObject_VectorcallTstate` does (PyObject_Vectorcall would look the state up).
    let result = match pyo3_ffi::PyVectorcall_Function(func) {
        Some(vectorcall) => {
            let res = vectorcall(func, args, total | pyo3_ffi::PY_VECTORCALL_ARGUMENTS_OFFSET, std::ptr::null_mut());
            _Py_CheckFunctionResult(tstate, func, res, std::ptr::null())
        }
        None => return crate::runtime::call(slots, nargs, std::ptr::null_mut()),
    };
    release(slots, nargs);
    result
}

/// An exact int, float or str (whose str() is an exact str, computed without Python code).
#[inline(always)]
unsafe fn is_plain_scalar(obj: *mut PyObject) -> bool {
    let tp = Py_TYPE(obj);
    tp == std::ptr::addr_of_mut!(pyo3_ffi::PyLong_Type)
        || tp == std::ptr::addr_of_mut!(pyo3_ffi::PyFloat_Type)
        || tp == std::ptr::addr_of_mut!(pyo3_ffi::PyUnicode_Type)
}

/// `_Py_CheckFunctionResult`, by address (for compiled code).
pub fn check_function_result_address() -> usize {
    _Py_CheckFunctionResult as usize
}

/// Drop the references CALL consumed: `[method or NULL, callable or self, args...]`.
#[inline(always)]
unsafe fn release(slots: *mut *mut PyObject, nargs: u64) {
    pyo3_ffi::Py_XDECREF(*slots);
    for i in 1..nargs as usize + 2 {
        pyo3_ffi::Py_DECREF(*slots.add(i));
    }
}

/// `list.append`, the method descriptor (static types' dicts never change).
pub fn list_append_descriptor() -> *mut PyObject {
    static DESCR: std::sync::atomic::AtomicPtr<PyObject> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
    let mut descr = DESCR.load(std::sync::atomic::Ordering::Relaxed);
    if descr.is_null() {
        unsafe {
            let list_type = std::ptr::addr_of_mut!(pyo3_ffi::PyList_Type) as *mut PyObject;
            descr = pyo3_ffi::PyObject_GetAttrString(list_type, c"append".as_ptr());
            if descr.is_null() {
                pyo3_ffi::PyErr_Clear();
                return std::ptr::NonNull::dangling().as_ptr(); // never equal to a callable
            }
            // The type's dict keeps it alive; drop the reference we got.
            pyo3_ffi::Py_DECREF(descr);
        }
        DESCR.store(descr, std::sync::atomic::Ordering::Relaxed);
    }
    descr
}

/// Enter `func`'s compiled code with `total` positional arguments at `args` (owned, like
/// the reference to `func`, and moved into the new frame). None, with nothing consumed,
/// when the direct path does not apply.
#[inline(always)]
unsafe fn try_direct(
    tstate: *mut PyThreadState,
    func: *mut PyObject,
    args: *mut *mut PyObject,
    total: usize,
    cache: *mut CallCache,
) -> Option<*mut PyObject> {
    let code = *field::<*mut PyObject>(func.cast(), cpython::FUNC_CODE);
    let state = codestate::get(code);
    if state.is_null() {
        return None;
    }
    let state = &mut *state;
    let compiled = state.compiled.as_deref()?;
    if state.eligibility != Eligibility::Eligible
        || state.exclusion_generation != crate::exclusion::generation()
        || !crate::hook::direct_calls_allowed()
        || !crate::hook::runs_compiled_code(tstate)
        || cpython::tracing_active(tstate, code)
        || crate::stack_guard::exhausted()
    {
        return None;
    }
    let flags = cpython::code_flags(code);
    let argcount = *field::<i32>(code.cast(), cpython::CODE_CO_ARGCOUNT) as usize;
    let kwonly = *field::<i32>(code.cast(), cpython::CODE_CO_KWONLYARGCOUNT);
    if flags & (CO_VARARGS | CO_VARKEYWORDS) != 0 || kwonly != 0 || total > argcount {
        return None;
    }
    // Missing arguments come from the defaults, when there are enough of them.
    let missing = argcount - total;
    let defaults = *field::<*mut PyObject>(func.cast(), cpython::FUNC_DEFAULTS);
    let ndefaults = if defaults.is_null() { 0 } else { pyo3_ffi::PyTuple_GET_SIZE(defaults) as usize };
    if missing > ndefaults {
        return None;
    }
    let frame = push_frame(tstate, code)?;
    if missing == 0 && !cache.is_null() {
        // Everything checked above that a call-site cache cannot see change is covered by
        // the epoch; the rest the direct-call routine checks on every call.
        *cache = CallCache {
            code,
            total: total as u64,
            epoch: EPOCH.load(Relaxed),
            entry: compiled.entry as usize,
            frame_bytes: 8 * cpython::frame_words(code) as u64,
            nlocalsplus: *field::<i32>(code.cast(), cpython::CODE_CO_NLOCALSPLUS) as u64,
            state_calls: &mut state.calls,
        };
    }
    init_frame(frame, func, code);
    let locals = field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS);
    for i in 0..total {
        // One at a time: a handful of pointers, where a memcpy call would cost more.
        std::ptr::write_volatile(locals.add(i), *args.add(i));
    }
    for i in 0..missing {
        let value = pyo3_ffi::PyTuple_GET_ITEM(defaults, (ndefaults - missing + i) as isize);
        Py_INCREF(value);
        *locals.add(total + i) = value;
    }
    state.calls += 1;
    STATS.calls.incr();
    STATS.direct_calls.incr();
    let result = entry::run(tstate, frame, compiled);
    cpython::clear_and_pop_called_frame(tstate, frame);
    Some(result)
}

/// Room for a frame of `code` on the current data-stack chunk, taken; None when the chunk is
/// full (CPython's own path then allocates a new chunk) or the frame would start a chunk
/// (popping it would free the chunk, which only CPython does).
#[inline(always)]
unsafe fn push_frame(tstate: *mut PyThreadState, code: *mut PyObject) -> Option<*mut InterpreterFrame> {
    let words = cpython::frame_words(code);
    let top = field::<*mut *mut PyObject>(tstate.cast(), cpython::TSTATE_DATASTACK_TOP);
    let base = *top;
    let limit = *field::<*mut *mut PyObject>(tstate.cast(), cpython::TSTATE_DATASTACK_LIMIT);
    if base.is_null() || (limit as usize - base as usize) / 8 <= words {
        return None;
    }
    let chunk = *field::<*mut u8>(tstate.cast(), cpython::TSTATE_DATASTACK_CHUNK);
    if chunk.add(cpython::STACK_CHUNK_DATA) as *mut *mut PyObject == base {
        return None;
    }
    *top = base.add(words);
    Some(base as *mut InterpreterFrame)
}

/// `_PyFrame_Initialize` (3.12) / `_PyFrame_InitializeSpecials` (3.11) for a function call:
/// takes the reference to `func`; locals start NULL (the caller fills the arguments).
#[inline(always)]
unsafe fn init_frame(frame: *mut InterpreterFrame, func: *mut PyObject, code: *mut PyObject) {
    let f = frame as *mut u8;
    Py_INCREF(code);
    *field::<*mut PyObject>(f, cpython::FRAME_F_CODE) = code;
    *field::<*mut PyObject>(f, cpython::FRAME_FUNCTION) = func;
    *field::<*mut PyObject>(f, cpython::FRAME_F_GLOBALS) = *field::<*mut PyObject>(func.cast(), cpython::FUNC_GLOBALS);
    *field::<*mut PyObject>(f, cpython::FRAME_F_BUILTINS) = *field::<*mut PyObject>(func.cast(), cpython::FUNC_BUILTINS);
    *field::<*mut PyObject>(f, cpython::FRAME_F_LOCALS) = std::ptr::null_mut();
    let nlocalsplus = *field::<i32>(code.cast(), cpython::CODE_CO_NLOCALSPLUS);
    *field::<i32>(f, cpython::FRAME_STACKTOP) = nlocalsplus;
    *field::<*mut PyObject>(f, cpython::FRAME_FRAME_OBJ) = std::ptr::null_mut();
    *field::<*mut u8>(f, cpython::FRAME_PREV_INSTR) = (code as *mut u8).add(cpython::CODE_CO_CODE_ADAPTIVE - 2);
    *field::<u8>(f, cpython::FRAME_OWNER) = cpython::FRAME_OWNED_BY_THREAD;
    cpython::init_version_specials(frame);
    let locals = field::<*mut PyObject>(f, cpython::FRAME_LOCALSPLUS);
    for i in 0..nlocalsplus as usize {
        // As above: no memset call for a few slots.
        std::ptr::write_volatile(locals.add(i), std::ptr::null_mut());
    }
}

/// The direct-call routine's way back for a callee that left through an exit (null result):
/// the rest of `entry::run` (the interpreter continues the frame, or unwinds its exception)
/// and of `try_direct` (3.11 clears and pops the frame).
unsafe extern "C" fn direct_call_exit(tstate: *mut PyThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    let result = entry::continue_in_interpreter(tstate, frame);
    cpython::clear_and_pop_called_frame(tstate, frame);
    result
}

/// The direct-call routine's way back for a returned callee frame it does not finish itself
/// (one with a frame object, or not owned by the thread any more).
unsafe extern "C" fn direct_call_finish(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    result: *mut PyObject,
) -> *mut PyObject {
    let result = cpython::finish_returned_frame(tstate, frame, result);
    cpython::clear_and_pop_called_frame(tstate, frame);
    result
}

/// The address of the direct-call routine (generated on first use, kept for the process).
///
/// Called from compiled code (`Assembler::call` with no arguments) with S0 = the callable,
/// R1 = the address of the first argument (the caller's stack slots), R2 = the number of
/// arguments, R3 = the site's `CallCache`. Returns in R0 the call's result (a new
/// reference; null with an exception set), with the callable and the arguments consumed, or
/// `MISS` with nothing consumed when any check fails. Clobbers R0-R3, S0, S1 and Home(0).
pub fn direct_call_routine() -> Option<usize> {
    static ROUTINE: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *ROUTINE.get_or_init(|| {
        let code = generate_direct_call_routine().ok()?;
        let block = crate::codemem::CodeBlock::new(&code)?;
        let start = block.start() as usize;
        std::mem::forget(block); // lives as long as the process
        Some(start)
    })
}

fn generate_direct_call_routine() -> Result<Vec<u8>, String> {
    use crate::backend::{Arg, Assembler, Cond, Reg};
    use std::mem::offset_of;
    const C_CODE: i32 = offset_of!(CallCache, code) as i32;
    const C_TOTAL: i32 = offset_of!(CallCache, total) as i32;
    const C_EPOCH: i32 = offset_of!(CallCache, epoch) as i32;
    const C_ENTRY: i32 = offset_of!(CallCache, entry) as i32;
    const C_FRAME_BYTES: i32 = offset_of!(CallCache, frame_bytes) as i32;
    const C_NLOCALSPLUS: i32 = offset_of!(CallCache, nlocalsplus) as i32;
    const C_STATE_CALLS: i32 = offset_of!(CallCache, state_calls) as i32;
    const OB_TYPE: i32 = offset_of!(PyObject, ob_type) as i32;
    let f = |offset: usize| offset as i32;
    let (func, args, total, cache) = (Reg::S0, Reg::R1, Reg::R2, Reg::R3);
    let frame = Reg::S1;
    let cursor = Reg::Home(0);
    let mut a = Assembler::new(cpython::FRAME_LOCALSPLUS, cpython::REFCOUNTS, cpython::ffi::_Py_Dealloc as usize);
    let miss = a.new_label();
    let exit = a.new_label();
    let finish_slow = a.new_label();
    a.subroutine_enter();

    // --- Checks (nothing changed until all pass).
    // The callable is a function whose code is the cached one, with as many arguments, and
    // nothing the cache relies on has changed since it was filled.
    a.load_imm(Reg::R0, std::ptr::addr_of_mut!(pyo3_ffi::PyFunction_Type) as u64);
    a.jump_if_field_not_equal(Reg::R0, func, OB_TYPE, miss);
    a.load_field(Reg::R0, func, f(cpython::FUNC_CODE));
    a.jump_if_field_not_equal(Reg::R0, cache, C_CODE, miss);
    a.jump_if_field_not_equal(total, cache, C_TOTAL, miss);
    a.load_absolute(Reg::R0, EPOCH.as_ptr() as usize);
    a.jump_if_field_not_equal(Reg::R0, cache, C_EPOCH, miss);
    // autojit's hook is the frame-evaluation function (`hook::runs_compiled_code`).
    a.load_absolute(Reg::R0, crate::hook::interp_address() + cpython::INTERP_EVAL_FRAME);
    a.jump_if_not_equal_imm(Reg::R0, crate::hook::eval_frame as usize as u64, miss);
    // No tracing, profiling or monitoring (`cpython::tracing_active`; a callee with
    // monitoring data at all takes the full check).
    #[cfg(autojit_py312)]
    {
        let tools = crate::hook::interp_address() + cpython::INTERP_MONITORS;
        a.jump_if_u64_at_nonzero(tools, miss);
        a.jump_if_u64_at_nonzero(tools + cpython::MONITORS_TOOLS_SIZE - 8, miss);
        a.load_field(Reg::R0, cache, C_CODE);
        a.load_field(Reg::R0, Reg::R0, f(cpython::CODE_CO_MONITORING));
        a.jump_if_nonzero(Reg::R0, miss);
    }
    #[cfg(autojit_py311)]
    {
        a.load_tstate_field(Reg::R0, cpython::TSTATE_CFRAME);
        a.jump_if_u8_field_nonzero(Reg::R0, cpython::CFRAME_USE_TRACING, miss);
    }
    // The C stack has room (`stack_guard::exhausted`, for the thread it last measured).
    let (low, high, limit) = crate::stack_guard::bounds_addresses();
    a.load_stack_pointer(Reg::R0);
    a.load_absolute(frame, low);
    a.u_jump_if(Cond::Lt, Reg::R0, frame, miss);
    a.load_absolute(frame, high);
    a.u_jump_if(Cond::Ge, Reg::R0, frame, miss);
    a.load_absolute(frame, limit);
    a.u_jump_if(Cond::Lt, Reg::R0, frame, miss);
    // The recursion budget has a unit left (`enter_recursive_py`).
    a.load_tstate_field_i32(Reg::R0, cpython::TSTATE_FRAME_RECURSION);
    a.i_jump_if_imm(Cond::Le, Reg::R0, 0, miss);
    // Room for the frame on the current data-stack chunk, not at its start (`push_frame`):
    // top + frame bytes + 8 <= limit.
    a.load_tstate_field(frame, cpython::TSTATE_DATASTACK_TOP);
    a.jump_if_zero(frame, miss);
    a.load_tstate_field(Reg::R0, cpython::TSTATE_DATASTACK_CHUNK);
    a.i_add_imm(Reg::R0, cpython::STACK_CHUNK_DATA as i32);
    a.jump_if_equal_reg(Reg::R0, frame, miss);
    a.load_field(Reg::R0, cache, C_FRAME_BYTES);
    a.i_add(Reg::R0, frame);
    a.i_add_imm(Reg::R0, 8);
    a.load_tstate_field(cursor, cpython::TSTATE_DATASTACK_LIMIT);
    a.u_jump_if(Cond::Gt, Reg::R0, cursor, miss);

    // --- The call. Push the frame and initialize it (`init_frame`): it takes the callable's
    // reference and the arguments'.
    a.load_field(Reg::R0, cache, C_FRAME_BYTES);
    a.i_add(Reg::R0, frame);
    a.store_tstate_field(cpython::TSTATE_DATASTACK_TOP, Reg::R0);
    a.load_field(Reg::R0, cache, C_CODE);
    a.incref(Reg::R0);
    a.store_field(frame, f(cpython::FRAME_F_CODE), Reg::R0);
    a.i_add_imm(Reg::R0, cpython::CODE_CO_CODE_ADAPTIVE as i32 - 2);
    a.store_field(frame, f(cpython::FRAME_PREV_INSTR), Reg::R0);
    a.store_field(frame, f(cpython::FRAME_FUNCTION), func);
    a.load_field(Reg::R0, func, f(cpython::FUNC_GLOBALS));
    a.store_field(frame, f(cpython::FRAME_F_GLOBALS), Reg::R0);
    a.load_field(Reg::R0, func, f(cpython::FUNC_BUILTINS));
    a.store_field(frame, f(cpython::FRAME_F_BUILTINS), Reg::R0);
    a.load_imm(Reg::R0, 0);
    a.store_field(frame, f(cpython::FRAME_F_LOCALS), Reg::R0);
    a.store_field(frame, f(cpython::FRAME_FRAME_OBJ), Reg::R0);
    a.load_field(Reg::R0, cache, C_NLOCALSPLUS);
    a.store_field_i32(frame, f(cpython::FRAME_STACKTOP), Reg::R0);
    a.load_imm(Reg::R0, cpython::FRAME_SMALL_FIELDS_INIT as u64);
    a.store_field_i32(frame, f(cpython::FRAME_SMALL_FIELDS), Reg::R0);
    // The arguments, then NULL for the other locals.
    a.mov(cursor, frame);
    a.i_add_imm(cursor, cpython::FRAME_LOCALSPLUS as i32);
    let (copy, copied) = (a.new_label(), a.new_label());
    a.bind(copy);
    a.jump_if_zero(total, copied);
    a.load_field(Reg::R0, args, 0);
    a.store_field(cursor, 0, Reg::R0);
    a.i_add_imm(args, 8);
    a.i_add_imm(cursor, 8);
    a.i_add_imm(total, -1);
    a.jump(copy);
    a.bind(copied);
    a.load_field(Reg::R0, cache, C_NLOCALSPLUS);
    a.i_shl_imm(Reg::R0, 3);
    a.i_add(Reg::R0, frame);
    a.i_add_imm(Reg::R0, cpython::FRAME_LOCALSPLUS as i32);
    a.load_imm(total, 0);
    let (clear, cleared) = (a.new_label(), a.new_label());
    a.bind(clear);
    a.u_jump_if(Cond::Ge, cursor, Reg::R0, cleared);
    a.store_field(cursor, 0, total);
    a.i_add_imm(cursor, 8);
    a.jump(clear);
    a.bind(cleared);
    // Counted as `try_direct` and `entry::run` count.
    a.load_field(Reg::R0, cache, C_STATE_CALLS);
    a.i_add_field_imm(Reg::R0, 0, 1);
    a.increment_u64_at(STATS.calls.address());
    a.increment_u64_at(STATS.direct_calls.address());
    a.increment_u64_at(STATS.compiled_calls.address());
    // `entry::run`: the recursion unit, the frame linked as the thread's current frame, the
    // compiled code run, the frame unlinked, the unit given back.
    a.add_tstate_field_i32(cpython::TSTATE_FRAME_RECURSION, -1);
    a.load_tstate_field(Reg::R0, cpython::TSTATE_CFRAME);
    a.load_field(Reg::R2, Reg::R0, f(cpython::CFRAME_CURRENT_FRAME));
    a.store_field(frame, f(cpython::FRAME_PREVIOUS), Reg::R2);
    a.store_field(Reg::R0, f(cpython::CFRAME_CURRENT_FRAME), frame);
    a.load_field(func, cache, C_ENTRY);
    a.call_indirect(func, &[Arg::Tstate, Arg::Reg(frame)]);
    a.load_tstate_field(Reg::R1, cpython::TSTATE_CFRAME);
    a.load_field(Reg::R2, frame, f(cpython::FRAME_PREVIOUS));
    a.store_field(Reg::R1, f(cpython::CFRAME_CURRENT_FRAME), Reg::R2);
    a.add_tstate_field_i32(cpython::TSTATE_FRAME_RECURSION, 1);
    a.jump_if_zero(Reg::R0, exit);

    // --- A returned frame, cleared and popped here in the common case (3.12's
    // `finish_returned_frame`, 3.11's `clear_and_pop_called_frame`): no frame object, still
    // the thread's.
    a.load_field(Reg::R1, frame, f(cpython::FRAME_FRAME_OBJ));
    a.jump_if_nonzero(Reg::R1, finish_slow);
    a.mov(Reg::R1, frame);
    a.jump_if_u8_field_nonzero(Reg::R1, cpython::FRAME_OWNER, finish_slow);
    const _: () = assert!(cpython::FRAME_OWNED_BY_THREAD == 0);
    a.mov(func, Reg::R0); // the result, kept across the releases
    a.add_tstate_field_i32(cpython::TSTATE_CLEAR_RECURSION, -1);
    a.mov(cursor, frame);
    a.i_add_imm(cursor, cpython::FRAME_LOCALSPLUS as i32);
    let (release, released) = (a.new_label(), a.new_label());
    a.bind(release);
    a.load_field_i32(Reg::R0, frame, f(cpython::FRAME_STACKTOP));
    a.i_shl_imm(Reg::R0, 3);
    a.i_add(Reg::R0, frame);
    a.i_add_imm(Reg::R0, cpython::FRAME_LOCALSPLUS as i32);
    a.u_jump_if(Cond::Ge, cursor, Reg::R0, released);
    a.load_field(Reg::R0, cursor, 0);
    a.i_add_imm(cursor, 8);
    a.xdecref(Reg::R0);
    a.jump(release);
    a.bind(released);
    a.load_field(Reg::R0, frame, f(cpython::FRAME_F_LOCALS));
    a.xdecref(Reg::R0);
    a.load_field(Reg::R0, frame, f(cpython::FRAME_FUNCTION));
    a.decref(Reg::R0);
    a.load_field(Reg::R0, frame, f(cpython::FRAME_F_CODE));
    a.decref(Reg::R0);
    a.add_tstate_field_i32(cpython::TSTATE_CLEAR_RECURSION, 1);
    a.store_tstate_field(cpython::TSTATE_DATASTACK_TOP, frame);
    a.mov(Reg::R0, func);
    a.subroutine_return();

    a.bind(finish_slow);
    a.call(direct_call_finish as usize, &[Arg::Tstate, Arg::Reg(frame), Arg::Reg(Reg::R0)]);
    a.subroutine_return();
    a.bind(exit);
    a.call(direct_call_exit as usize, &[Arg::Tstate, Arg::Reg(frame)]);
    a.subroutine_return();
    a.bind(miss);
    a.load_imm(Reg::R0, MISS);
    a.subroutine_return();
    a.finish()
}
