//! CPython 3.12: offsets and constants of the internal structs we touch, and the few
//! operations whose mechanics differ between versions. Every constant below is listed in
//! `CHECKED` and compared with the interpreter's own headers by `layout::verify`.

use super::access::{field, tstate_interp, InterpreterFrame};
use super::ffi::_PyEval_EvalFrameDefault;
use pyo3_ffi::{PyObject, PyThreadState};
use std::os::raw::c_int;

pub const VERSION: (u8, u8) = (3, 12);

// _PyInterpreterFrame
pub const FRAME_F_CODE: usize = 0;
pub const FRAME_PREVIOUS: usize = 8;
pub const FRAME_F_FUNCOBJ: usize = 16;
/// The frame's function object, whatever the version calls the field.
pub const FRAME_FUNCTION: usize = FRAME_F_FUNCOBJ;
pub const FRAME_F_GLOBALS: usize = 24;
pub const FRAME_F_BUILTINS: usize = 32;
pub const FRAME_F_LOCALS: usize = 40;
pub const FRAME_FRAME_OBJ: usize = 48;
pub const FRAME_PREV_INSTR: usize = 56;
pub const FRAME_STACKTOP: usize = 64;
pub const FRAME_RETURN_OFFSET: usize = 68;
pub const FRAME_OWNER: usize = 70;
pub const FRAME_LOCALSPLUS: usize = 72;
pub const FRAME_SIZE: usize = 80;
pub const FRAME_OWNED_BY_THREAD: u8 = 0;
pub const FRAME_OWNED_BY_GENERATOR: u8 = 1;
pub const FRAME_OWNED_BY_FRAME_OBJECT: u8 = 2;
pub const FRAME_OWNED_BY_CSTACK: u8 = 3;
/// The frame's one-byte or two-byte fields between `stacktop` and `localsplus`, as a direct
/// call initializes them (`return_offset` 0, `owner` FRAME_OWNED_BY_THREAD): one 32-bit word.
pub const FRAME_SMALL_FIELDS: usize = FRAME_RETURN_OFFSET;
pub const FRAME_SMALL_FIELDS_INIT: u32 = (FRAME_OWNED_BY_THREAD as u32) << (8 * (FRAME_OWNER - FRAME_RETURN_OFFSET));
const _: () = assert!(FRAME_RETURN_OFFSET == FRAME_STACKTOP + 4 && FRAME_OWNER == FRAME_RETURN_OFFSET + 2 && FRAME_LOCALSPLUS == FRAME_SMALL_FIELDS + 4);
/// The recursion counter a frame's evaluation takes a unit of (`_Py_EnterRecursivePy`), and
/// the one taken around clearing a returned frame (`_PyFrame_ClearExceptCode`'s callers).
pub const TSTATE_FRAME_RECURSION: usize = TSTATE_PY_RECURSION_REMAINING;
pub const TSTATE_CLEAR_RECURSION: usize = TSTATE_C_RECURSION_REMAINING;

// PyCodeObject
pub const CODE_CO_CONSTS: usize = 24;
pub const CODE_CO_NAMES: usize = 32;
pub const CODE_CO_EXCEPTIONTABLE: usize = 40;
pub const CODE_CO_FLAGS: usize = 48;
pub const CODE_CO_ARGCOUNT: usize = 52;
pub const CODE_CO_KWONLYARGCOUNT: usize = 60;
pub const CODE_CO_STACKSIZE: usize = 64;
pub const CODE_CO_FIRSTLINENO: usize = 68;
pub const CODE_CO_NLOCALSPLUS: usize = 72;
pub const CODE_CO_FRAMESIZE: usize = 76;
pub const CODE_CO_NLOCALS: usize = 80;
pub const CODE_CO_LOCALSPLUSNAMES: usize = 96;
pub const CODE_CO_LINETABLE: usize = 136;
pub const CODE_CO_FIRSTTRACEABLE: usize = 176;
pub const CODE_CO_EXTRA: usize = 184;
pub const CODE_CO_CODE_ADAPTIVE: usize = 192;

// co_flags
pub const CO_OPTIMIZED: i32 = 0x1;
pub const CO_NEWLOCALS: i32 = 0x2;
pub const CO_GENERATOR: i32 = 0x20;
pub const CO_COROUTINE: i32 = 0x80;
pub const CO_ITERABLE_COROUTINE: i32 = 0x100;
pub const CO_ASYNC_GENERATOR: i32 = 0x200;

// PyThreadState, _PyCFrame, PyInterpreterState
pub const TSTATE_INTERP: usize = 16;
/// The interpreter's frame-evaluation function (PEP 523).
pub const INTERP_EVAL_FRAME: usize = 1744;
pub const TSTATE_PY_RECURSION_REMAINING: usize = 28;
pub const TSTATE_PY_RECURSION_LIMIT: usize = 32;
pub const TSTATE_C_RECURSION_REMAINING: usize = 36;
pub const TSTATE_CFRAME: usize = 56;
pub const TSTATE_DATASTACK_CHUNK: usize = 232;
pub const TSTATE_DATASTACK_TOP: usize = 240;
pub const TSTATE_DATASTACK_LIMIT: usize = 248;
pub const STACK_CHUNK_DATA: usize = 24;
pub const CFRAME_CURRENT_FRAME: usize = 0;
pub const CFRAME_PREVIOUS: usize = 8;
pub const C_RECURSION_LIMIT: i32 = 1500;
pub const INTERP_CEVAL: usize = 368;
pub const INTERP_EVAL_BREAKER: usize = 368;
pub const INTERP_MONITORS: usize = 381744;
pub const MONITORS_TOOLS_SIZE: usize = 15;
pub const CODE_CO_MONITORING: usize = 168;
pub const CO_MONITORING_LOCAL_MONITORS: usize = 0;
pub const LOCAL_MONITORS_TOOLS_SIZE: usize = 15;
/// Only the first `_PY_MONITORING_LOCAL_EVENTS` tool bytes of a code's local monitors are
/// initialized; the rest may hold garbage.
pub const MONITORING_LOCAL_EVENTS: usize = 10;
pub const INTERP_MONITORING_TOOL_NAMES: usize = 382872;
pub const MONITORING_TOOL_IDS: usize = 8;

/// C recursion units `_PyEval_EvalFrameDefault` takes on entry (`PY_EVAL_C_STACK_UNITS` in
/// Python/ceval.c, which no header exports).
pub const PY_EVAL_C_STACK_UNITS: i32 = 2;

// PyFunctionObject (MAKE_FUNCTION), PyBaseExceptionObject, the original __import__
pub const FUNC_DEFAULTS: usize = 56;
pub const FUNC_KWDEFAULTS: usize = 64;
pub const FUNC_CLOSURE: usize = 72;
pub const FUNC_ANNOTATIONS: usize = 112;
pub const FUNC_VERSION: usize = 136;
pub const CODE_CO_VERSION: usize = 92;
pub const EXC_ARGS: usize = 24;
pub const INTERP_IMPORT_FUNC: usize = 984;

// Direct calls between compiled functions: PyFunctionObject, PyMethodObject, the data stack
pub const FUNC_GLOBALS: usize = 16;
pub const FUNC_BUILTINS: usize = 24;
pub const FUNC_CODE: usize = 48;
pub const METHOD_IM_FUNC: usize = 16;
pub const METHOD_IM_SELF: usize = 24;
pub const DICT_MA_VERSION_TAG: usize = 24;
// Shared (split) dict keys of a class's instances, and instance values.
pub const HEAPTYPE_CACHED_KEYS: usize = 880;
pub const DICTKEYS_LOG2_INDEX_BYTES: usize = 9;
pub const DICTKEYS_KIND: usize = 10;
pub const DICTKEYS_NENTRIES: usize = 24;
pub const DICTKEYS_INDICES: usize = 32;
pub const DICT_UNICODE_ENTRY_SIZE: usize = 16;
pub const DICT_KEYS_SPLIT: u8 = 2;
pub const TPFLAGS_MANAGED_DICT: u64 = 1 << 4;
pub const PYLONG_SHIFT: u32 = 30;
// PyLongObject: a tag (sign in the low bits, digit count above them) and 30-bit digits.
pub const LONG_LV_TAG: usize = 16;
pub const LONG_DIGITS: usize = 24;
pub const LONG_NON_SIZE_BITS: u32 = 3;

/// Every constant above, by the name the layout shim reports it under.
pub const CHECKED: &[(&str, i64)] = &[
    ("_PyInterpreterFrame.f_code", FRAME_F_CODE as i64),
    ("_PyInterpreterFrame.previous", FRAME_PREVIOUS as i64),
    ("_PyInterpreterFrame.f_funcobj", FRAME_F_FUNCOBJ as i64),
    ("_PyInterpreterFrame.f_globals", FRAME_F_GLOBALS as i64),
    ("_PyInterpreterFrame.f_builtins", FRAME_F_BUILTINS as i64),
    ("_PyInterpreterFrame.f_locals", FRAME_F_LOCALS as i64),
    ("_PyInterpreterFrame.frame_obj", FRAME_FRAME_OBJ as i64),
    ("_PyInterpreterFrame.prev_instr", FRAME_PREV_INSTR as i64),
    ("_PyInterpreterFrame.stacktop", FRAME_STACKTOP as i64),
    ("_PyInterpreterFrame.return_offset", FRAME_RETURN_OFFSET as i64),
    ("_PyInterpreterFrame.owner", FRAME_OWNER as i64),
    ("_PyInterpreterFrame.localsplus", FRAME_LOCALSPLUS as i64),
    ("sizeof _PyInterpreterFrame", FRAME_SIZE as i64),
    ("FRAME_OWNED_BY_THREAD", FRAME_OWNED_BY_THREAD as i64),
    ("FRAME_OWNED_BY_GENERATOR", FRAME_OWNED_BY_GENERATOR as i64),
    ("FRAME_OWNED_BY_FRAME_OBJECT", FRAME_OWNED_BY_FRAME_OBJECT as i64),
    ("FRAME_OWNED_BY_CSTACK", FRAME_OWNED_BY_CSTACK as i64),
    ("PyCodeObject.co_consts", CODE_CO_CONSTS as i64),
    ("PyCodeObject.co_names", CODE_CO_NAMES as i64),
    ("PyCodeObject.co_exceptiontable", CODE_CO_EXCEPTIONTABLE as i64),
    ("PyCodeObject.co_flags", CODE_CO_FLAGS as i64),
    ("PyCodeObject.co_argcount", CODE_CO_ARGCOUNT as i64),
    ("PyCodeObject.co_stacksize", CODE_CO_STACKSIZE as i64),
    ("PyCodeObject.co_firstlineno", CODE_CO_FIRSTLINENO as i64),
    ("PyCodeObject.co_nlocalsplus", CODE_CO_NLOCALSPLUS as i64),
    ("PyCodeObject.co_framesize", CODE_CO_FRAMESIZE as i64),
    ("PyCodeObject.co_nlocals", CODE_CO_NLOCALS as i64),
    ("PyCodeObject.co_localsplusnames", CODE_CO_LOCALSPLUSNAMES as i64),
    ("PyCodeObject.co_linetable", CODE_CO_LINETABLE as i64),
    ("PyCodeObject._co_firsttraceable", CODE_CO_FIRSTTRACEABLE as i64),
    ("PyCodeObject.co_extra", CODE_CO_EXTRA as i64),
    ("PyCodeObject.co_code_adaptive", CODE_CO_CODE_ADAPTIVE as i64),
    ("CO_OPTIMIZED", CO_OPTIMIZED as i64),
    ("CO_NEWLOCALS", CO_NEWLOCALS as i64),
    ("CO_GENERATOR", CO_GENERATOR as i64),
    ("CO_COROUTINE", CO_COROUTINE as i64),
    ("CO_ITERABLE_COROUTINE", CO_ITERABLE_COROUTINE as i64),
    ("CO_ASYNC_GENERATOR", CO_ASYNC_GENERATOR as i64),
    ("PyThreadState.interp", TSTATE_INTERP as i64),
    ("PyInterpreterState.eval_frame", INTERP_EVAL_FRAME as i64),
    ("PyThreadState.cframe", TSTATE_CFRAME as i64),
    ("_PyCFrame.current_frame", CFRAME_CURRENT_FRAME as i64),
    ("_PyCFrame.previous", CFRAME_PREVIOUS as i64),
    ("PyThreadState.py_recursion_remaining", TSTATE_PY_RECURSION_REMAINING as i64),
    ("PyThreadState.py_recursion_limit", TSTATE_PY_RECURSION_LIMIT as i64),
    ("PyThreadState.c_recursion_remaining", TSTATE_C_RECURSION_REMAINING as i64),
    ("C_RECURSION_LIMIT", C_RECURSION_LIMIT as i64),
    ("PyInterpreterState.monitors", INTERP_MONITORS as i64),
    ("sizeof monitors.tools", MONITORS_TOOLS_SIZE as i64),
    ("PyCodeObject._co_monitoring", CODE_CO_MONITORING as i64),
    ("_PyCoMonitoringData.local_monitors", CO_MONITORING_LOCAL_MONITORS as i64),
    ("sizeof local_monitors.tools", LOCAL_MONITORS_TOOLS_SIZE as i64),
    ("_PY_MONITORING_LOCAL_EVENTS", MONITORING_LOCAL_EVENTS as i64),
    ("PyInterpreterState.monitoring_tool_names", INTERP_MONITORING_TOOL_NAMES as i64),
    ("PY_MONITORING_TOOL_IDS", MONITORING_TOOL_IDS as i64),
    ("PyInterpreterState.ceval", INTERP_CEVAL as i64),
    ("PyInterpreterState.ceval.eval_breaker", INTERP_EVAL_BREAKER as i64),
    ("PyFunctionObject.func_defaults", FUNC_DEFAULTS as i64),
    ("PyFunctionObject.func_kwdefaults", FUNC_KWDEFAULTS as i64),
    ("PyFunctionObject.func_closure", FUNC_CLOSURE as i64),
    ("PyFunctionObject.func_annotations", FUNC_ANNOTATIONS as i64),
    ("PyFunctionObject.func_version", FUNC_VERSION as i64),
    ("PyCodeObject.co_version", CODE_CO_VERSION as i64),
    ("PyBaseExceptionObject.args", EXC_ARGS as i64),
    ("PyInterpreterState.imports.import_func", INTERP_IMPORT_FUNC as i64),
    ("PyFunctionObject.func_globals", FUNC_GLOBALS as i64),
    ("PyFunctionObject.func_builtins", FUNC_BUILTINS as i64),
    ("PyFunctionObject.func_code", FUNC_CODE as i64),
    ("PyCodeObject.co_kwonlyargcount", CODE_CO_KWONLYARGCOUNT as i64),
    ("PyMethodObject.im_func", METHOD_IM_FUNC as i64),
    ("PyMethodObject.im_self", METHOD_IM_SELF as i64),
    ("PyThreadState.datastack_chunk", TSTATE_DATASTACK_CHUNK as i64),
    ("PyThreadState.datastack_top", TSTATE_DATASTACK_TOP as i64),
    ("PyThreadState.datastack_limit", TSTATE_DATASTACK_LIMIT as i64),
    ("_PyStackChunk.data", STACK_CHUNK_DATA as i64),
    ("PyDictObject.ma_version_tag", DICT_MA_VERSION_TAG as i64),
    ("PyHeapTypeObject.ht_cached_keys", HEAPTYPE_CACHED_KEYS as i64),
    ("PyDictKeysObject.dk_log2_index_bytes", DICTKEYS_LOG2_INDEX_BYTES as i64),
    ("PyDictKeysObject.dk_kind", DICTKEYS_KIND as i64),
    ("PyDictKeysObject.dk_nentries", DICTKEYS_NENTRIES as i64),
    ("PyDictKeysObject.dk_indices", DICTKEYS_INDICES as i64),
    ("sizeof PyDictUnicodeEntry", DICT_UNICODE_ENTRY_SIZE as i64),
    ("DICT_KEYS_SPLIT", DICT_KEYS_SPLIT as i64),
    ("Py_TPFLAGS_MANAGED_DICT", TPFLAGS_MANAGED_DICT as i64),
    ("PyLong_SHIFT", PYLONG_SHIFT as i64),
    ("PyLongObject.long_value.lv_tag", LONG_LV_TAG as i64),
    ("PyLongObject.long_value.ob_digit", LONG_DIGITS as i64),
    ("_PyLong_NON_SIZE_BITS", LONG_NON_SIZE_BITS as i64),
];

/// Is any tracing, profiling or monitoring tool active for `code`? On 3.12 `sys.settrace`,
/// `sys.setprofile` and every global `sys.monitoring` event register in the interpreter's
/// `monitors.tools` bytes; `sys.monitoring.set_local_events` (coverage's sysmon core uses it)
/// registers in the code object's own `_co_monitoring->local_monitors` instead.
#[inline(always)]
pub unsafe fn tracing_active(tstate: *const PyThreadState, code: *const PyObject) -> bool {
    let tools = tstate_interp(tstate).add(INTERP_MONITORS);
    // Two overlapping 8-byte reads cover the 15 tool bytes exactly.
    let low = (tools as *const u64).read_unaligned();
    let high = (tools.add(MONITORS_TOOLS_SIZE - 8) as *const u64).read_unaligned();
    if (low | high) != 0 {
        return true;
    }
    const _: () = assert!(MONITORING_LOCAL_EVENTS == 10);
    let monitoring = *field::<*const u8>(code.cast(), CODE_CO_MONITORING);
    if monitoring.is_null() {
        return false;
    }
    // The MONITORING_LOCAL_EVENTS (10) meaningful bytes: an 8-byte and a 2-byte read.
    let local = monitoring.add(CO_MONITORING_LOCAL_MONITORS);
    let first = (local as *const u64).read_unaligned();
    let rest = (local.add(8) as *const u16).read_unaligned();
    (first | rest as u64) != 0
}

/// Hand a frame to CPython's own eval loop.
///
/// Without a PEP 523 hook, CPython runs a Python-to-Python call inside the same C loop and
/// spends no C-recursion budget on it; with one, every call re-enters the loop, which takes
/// `PY_EVAL_C_STACK_UNITS` from `c_recursion_remaining` (limit 1500): recursion would fail at
/// about 750 levels instead of the Python limit. We give those units back for the call, so
/// the Python recursion limit governs as in plain CPython; the real C stack is protected by
/// `stack_guard` instead.
#[inline(always)]
pub unsafe fn eval_default(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    throwflag: c_int,
) -> *mut PyObject {
    let c_remaining = field::<i32>(tstate.cast(), TSTATE_C_RECURSION_REMAINING);
    *c_remaining += PY_EVAL_C_STACK_UNITS;
    let result = _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    *c_remaining -= PY_EVAL_C_STACK_UNITS;
    result
}

/// 3.12 has immortal objects: reference counts saturate.
pub const REFCOUNTS: crate::backend::RefcountModel = crate::backend::RefcountModel::Immortal;

/// Take the Python recursion unit the eval loop takes when it starts a frame
/// (`_Py_EnterRecursivePy`). False when the budget is spent: the caller hands the frame to the
/// interpreter, which raises RecursionError exactly as it always does.
#[inline(always)]
pub unsafe fn enter_recursive_py(tstate: *mut PyThreadState) -> bool {
    let remaining = field::<i32>(tstate.cast(), TSTATE_PY_RECURSION_REMAINING);
    if *remaining <= 0 {
        return false;
    }
    *remaining -= 1;
    true
}

#[inline(always)]
pub unsafe fn leave_recursive_py(tstate: *mut PyThreadState) {
    *field::<i32>(tstate.cast(), TSTATE_PY_RECURSION_REMAINING) += 1;
}

/// A frame whose compiled code returned `result` (stack empty, frame unlinked, recursion
/// unit given back). On 3.12 the eval-frame function owns finishing the frame, as
/// `RETURN_VALUE` does: clear it and pop it off the thread's data stack. The common case is
/// done here; a frame that has a frame object (which must take ownership of the locals) or
/// that sits at the start of a data-stack chunk is handed to the interpreter at its return
/// instruction instead, which finishes it with CPython's own (unexported) functions.
pub unsafe fn finish_returned_frame(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    result: *mut PyObject,
) -> *mut PyObject {
    use super::access::{frame_code, frame_owner};
    let base = frame as *mut *mut PyObject;
    let chunk = *field::<*mut u8>(tstate.cast(), TSTATE_DATASTACK_CHUNK);
    let at_chunk_start = chunk.add(STACK_CHUNK_DATA) as *mut *mut PyObject == base;
    let frame_obj = *field::<*mut PyObject>(frame.cast(), FRAME_FRAME_OBJ);
    if frame_obj.is_null() && !at_chunk_start && frame_owner(frame) == FRAME_OWNED_BY_THREAD {
        let c_remaining = field::<i32>(tstate.cast(), TSTATE_C_RECURSION_REMAINING);
        *c_remaining -= 1;
        let stacktop = *field::<i32>(frame.cast(), FRAME_STACKTOP);
        let locals = field::<*mut PyObject>(frame.cast(), FRAME_LOCALSPLUS);
        for i in 0..stacktop as usize {
            pyo3_ffi::Py_XDECREF(*locals.add(i));
        }
        pyo3_ffi::Py_XDECREF(*field::<*mut PyObject>(frame.cast(), FRAME_F_LOCALS));
        pyo3_ffi::Py_DECREF(*field::<*mut PyObject>(frame.cast(), FRAME_F_FUNCOBJ));
        let code = frame_code(frame);
        pyo3_ffi::Py_DECREF(code);
        *c_remaining += 1;
        *field::<*mut *mut PyObject>(tstate.cast(), TSTATE_DATASTACK_TOP) = base;
        return result;
    }
    // Re-run the return instruction in the interpreter: it is at prev_instr.
    let prev_instr = field::<*mut u16>(frame.cast(), FRAME_PREV_INSTR);
    let instr = *prev_instr;
    *prev_instr = instr.sub(1);
    let opcode = (*instr & 0xff) as usize;
    let op = crate::bytecode::opcodes::table().ops[opcode];
    if matches!(op, crate::bytecode::Op::RETURN_VALUE | crate::bytecode::Op::INSTRUMENTED_RETURN_VALUE) {
        let stacktop = field::<i32>(frame.cast(), FRAME_STACKTOP);
        *field::<*mut PyObject>(frame.cast(), FRAME_LOCALSPLUS + 8 * *stacktop as usize) = result;
        *stacktop += 1;
    } else {
        // RETURN_CONST pushes its constant itself.
        pyo3_ffi::Py_DECREF(result);
    }
    eval_default(tstate, frame, 0)
}

/// The value of an exact int of at most one digit (|value| < 2**30), as CPython's own
/// "compact" fast paths read it; None for a bigger int.
#[inline(always)]
pub unsafe fn compact_int_value(obj: *const PyObject) -> Option<i64> {
    let tag = *field::<usize>(obj.cast(), LONG_LV_TAG);
    if tag >= 2 << LONG_NON_SIZE_BITS {
        return None;
    }
    let sign = 1 - (tag & 3) as i64;
    Some(sign * *field::<u32>(obj.cast(), LONG_DIGITS) as i64)
}

/// The inline values of an instance whose type has a managed dict, or null when its dict
/// has been materialized. Three words before the object is a tagged pointer: the dict, or
/// (odd) the values array minus one byte (`_PyObject_DictOrValuesPointer`,
/// `_PyDictOrValues_GetValues` in pycore_object.h).
#[inline(always)]
pub unsafe fn instance_values(obj: *const PyObject) -> *mut *mut PyObject {
    let tagged = *(obj as *const usize).sub(3);
    if tagged & 1 == 1 {
        (tagged + 1) as *mut *mut PyObject
    } else {
        std::ptr::null_mut()
    }
}

/// Words of the data stack a frame for `code` takes.
#[inline(always)]
pub unsafe fn frame_words(code: *const PyObject) -> usize {
    *field::<i32>(code.cast(), CODE_CO_FRAMESIZE) as usize
}

/// The specials `_PyFrame_Initialize` sets that only 3.12 has.
#[inline(always)]
pub unsafe fn init_version_specials(frame: *mut InterpreterFrame) {
    *field::<u16>(frame.cast(), FRAME_RETURN_OFFSET) = 0;
}

/// After a frame pushed for a direct call has been evaluated: on 3.12 the evaluation itself
/// cleared and popped it (compiled return, or the interpreter's return and unwind paths).
#[inline(always)]
pub unsafe fn clear_and_pop_called_frame(_tstate: *mut PyThreadState, _frame: *mut InterpreterFrame) {}

/// Is any tracing, profiling or monitoring active in the interpreter: a global event set
/// (sys.settrace and sys.setprofile register as monitoring tools on 3.12), or a
/// sys.monitoring tool registered at all (it may have local events on any code object)?
pub unsafe fn tracing_anywhere(interp: *mut super::ffi::InterpreterState) -> bool {
    let interp = interp as *const u8;
    let tools = interp.add(INTERP_MONITORS);
    if (0..MONITORS_TOOLS_SIZE).any(|i| *tools.add(i) != 0) {
        return true;
    }
    let names = interp.add(INTERP_MONITORING_TOOL_NAMES) as *const *mut PyObject;
    (0..MONITORING_TOOL_IDS).any(|i| !(*names.add(i)).is_null())
}
