//! CPython 3.11: offsets and constants of the internal structs we touch, and the few
//! operations whose mechanics differ between versions. Every constant below is listed in
//! `CHECKED` and compared with the interpreter's own headers by `layout::verify`.

use super::access::{field, tstate_cframe, InterpreterFrame};
use super::ffi::_PyEval_EvalFrameDefault;
use pyo3_ffi::{PyObject, PyThreadState};
use std::os::raw::c_int;

pub const VERSION: (u8, u8) = (3, 11);

// _PyInterpreterFrame
pub const FRAME_F_FUNC: usize = 0;
/// The frame's function object, whatever the version calls the field.
pub const FRAME_FUNCTION: usize = FRAME_F_FUNC;
pub const FRAME_F_GLOBALS: usize = 8;
pub const FRAME_F_BUILTINS: usize = 16;
pub const FRAME_F_LOCALS: usize = 24;
pub const FRAME_F_CODE: usize = 32;
pub const FRAME_FRAME_OBJ: usize = 40;
pub const FRAME_PREVIOUS: usize = 48;
pub const FRAME_PREV_INSTR: usize = 56;
pub const FRAME_STACKTOP: usize = 64;
pub const FRAME_IS_ENTRY: usize = 68;
pub const FRAME_OWNER: usize = 69;
pub const FRAME_LOCALSPLUS: usize = 72;
pub const FRAME_SIZE: usize = 80;
pub const FRAME_OWNED_BY_THREAD: u8 = 0;
/// The frame's one-byte fields between `stacktop` and `localsplus`, as a direct call
/// initializes them (`is_entry` 0, `owner` FRAME_OWNED_BY_THREAD): one 32-bit word.
pub const FRAME_SMALL_FIELDS: usize = FRAME_IS_ENTRY;
pub const FRAME_SMALL_FIELDS_INIT: u32 = (FRAME_OWNED_BY_THREAD as u32) << (8 * (FRAME_OWNER - FRAME_IS_ENTRY));
const _: () = assert!(FRAME_IS_ENTRY == FRAME_STACKTOP + 4 && FRAME_OWNER == FRAME_IS_ENTRY + 1 && FRAME_LOCALSPLUS == FRAME_SMALL_FIELDS + 4);
pub const FRAME_OWNED_BY_GENERATOR: u8 = 1;
pub const FRAME_OWNED_BY_FRAME_OBJECT: u8 = 2;

// PyCodeObject
pub const CODE_CO_CONSTS: usize = 24;
pub const CODE_CO_NAMES: usize = 32;
pub const CODE_CO_EXCEPTIONTABLE: usize = 40;
pub const CODE_CO_FLAGS: usize = 48;
pub const CODE_CO_ARGCOUNT: usize = 56;
pub const CODE_CO_KWONLYARGCOUNT: usize = 64;
pub const CODE_CO_STACKSIZE: usize = 68;
pub const CODE_CO_FIRSTLINENO: usize = 72;
pub const CODE_CO_NLOCALSPLUS: usize = 76;
pub const CODE_CO_NLOCALS: usize = 80;
pub const CODE_CO_LOCALSPLUSNAMES: usize = 96;
pub const CODE_CO_LINETABLE: usize = 136;
pub const CODE_CO_FIRSTTRACEABLE: usize = 168;
pub const CODE_CO_EXTRA: usize = 176;
pub const CODE_CO_CODE_ADAPTIVE: usize = 184;
/// `co_warmup` (a short): counts up from -QUICKENING_WARMUP_DELAY at every RESUME and
/// JUMP_BACKWARD the interpreter runs; at 0 the code is quickened (superinstructions).
pub const CODE_CO_WARMUP: usize = 52;
pub const QUICKENING_WARMUP_DELAY: i32 = 8;

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
pub const INTERP_EVAL_FRAME: usize = 1424;
pub const TSTATE_RECURSION_REMAINING: usize = 32;
pub const TSTATE_RECURSION_LIMIT: usize = 36;
/// The recursion counter a frame's evaluation takes a unit of, and the one taken around
/// clearing a returned frame (`_PyEvalFrameClearAndPop`): the same one on 3.11.
pub const TSTATE_FRAME_RECURSION: usize = TSTATE_RECURSION_REMAINING;
pub const TSTATE_CLEAR_RECURSION: usize = TSTATE_RECURSION_REMAINING;
pub const TSTATE_CFRAME: usize = 56;
pub const TSTATE_C_PROFILEFUNC: usize = 64;
pub const TSTATE_C_TRACEFUNC: usize = 72;
pub const CFRAME_USE_TRACING: usize = 0;
pub const CFRAME_CURRENT_FRAME: usize = 8;
pub const CFRAME_PREVIOUS: usize = 16;
pub const INTERP_CEVAL: usize = 96;
pub const INTERP_EVAL_BREAKER: usize = 100;

// PyFunctionObject (MAKE_FUNCTION), PyBaseExceptionObject, the original __import__
pub const FUNC_DEFAULTS: usize = 56;
pub const FUNC_KWDEFAULTS: usize = 64;
pub const FUNC_CLOSURE: usize = 72;
pub const FUNC_ANNOTATIONS: usize = 112;
pub const EXC_ARGS: usize = 24;
pub const INTERP_IMPORT_FUNC: usize = 1416;

// Direct calls between compiled functions: PyFunctionObject, PyMethodObject, the data stack
pub const FUNC_GLOBALS: usize = 16;
pub const FUNC_BUILTINS: usize = 24;
pub const FUNC_CODE: usize = 48;
pub const METHOD_IM_FUNC: usize = 16;
pub const METHOD_IM_SELF: usize = 24;
pub const DICT_MA_VERSION_TAG: usize = 24;
// Shared (split) dict keys of a class's instances, and instance values.
pub const HEAPTYPE_CACHED_KEYS: usize = 872;
pub const DICTKEYS_LOG2_INDEX_BYTES: usize = 9;
pub const DICTKEYS_KIND: usize = 10;
pub const DICTKEYS_NENTRIES: usize = 24;
pub const DICTKEYS_INDICES: usize = 32;
pub const DICT_UNICODE_ENTRY_SIZE: usize = 16;
pub const DICT_KEYS_SPLIT: u8 = 2;
pub const TPFLAGS_MANAGED_DICT: u64 = 1 << 4;
pub const PYLONG_SHIFT: u32 = 30;
// PyLongObject: a signed digit count (`ob_size`) and 30-bit digits.
pub const LONG_OB_SIZE: usize = 16;
pub const LONG_DIGITS: usize = 24;
pub const TSTATE_DATASTACK_CHUNK: usize = 296;
pub const TSTATE_DATASTACK_TOP: usize = 304;
pub const TSTATE_DATASTACK_LIMIT: usize = 312;
pub const STACK_CHUNK_DATA: usize = 24;
/// Words of a frame before its locals (3.11 has no `co_framesize`: a frame is
/// `co_nlocalsplus + co_stacksize + FRAME_SPECIALS_SIZE` words).
pub const FRAME_SPECIALS_SIZE: usize = 9;
// PyFrameObject: a frame object that outlives its frame takes the frame's data over.
pub const FRAMEOBJ_F_BACK: usize = 16;
pub const FRAMEOBJ_F_FRAME: usize = 24;
pub const FRAMEOBJ_FRAME_DATA: usize = 48;

/// Every constant above, by the name the layout shim reports it under.
pub const CHECKED: &[(&str, i64)] = &[
    ("_PyInterpreterFrame.f_func", FRAME_F_FUNC as i64),
    ("_PyInterpreterFrame.f_globals", FRAME_F_GLOBALS as i64),
    ("_PyInterpreterFrame.f_builtins", FRAME_F_BUILTINS as i64),
    ("_PyInterpreterFrame.f_locals", FRAME_F_LOCALS as i64),
    ("_PyInterpreterFrame.f_code", FRAME_F_CODE as i64),
    ("_PyInterpreterFrame.frame_obj", FRAME_FRAME_OBJ as i64),
    ("_PyInterpreterFrame.previous", FRAME_PREVIOUS as i64),
    ("_PyInterpreterFrame.prev_instr", FRAME_PREV_INSTR as i64),
    ("_PyInterpreterFrame.stacktop", FRAME_STACKTOP as i64),
    ("_PyInterpreterFrame.is_entry", FRAME_IS_ENTRY as i64),
    ("_PyInterpreterFrame.owner", FRAME_OWNER as i64),
    ("_PyInterpreterFrame.localsplus", FRAME_LOCALSPLUS as i64),
    ("sizeof _PyInterpreterFrame", FRAME_SIZE as i64),
    ("FRAME_OWNED_BY_THREAD", FRAME_OWNED_BY_THREAD as i64),
    ("FRAME_OWNED_BY_GENERATOR", FRAME_OWNED_BY_GENERATOR as i64),
    ("FRAME_OWNED_BY_FRAME_OBJECT", FRAME_OWNED_BY_FRAME_OBJECT as i64),
    ("PyCodeObject.co_consts", CODE_CO_CONSTS as i64),
    ("PyCodeObject.co_names", CODE_CO_NAMES as i64),
    ("PyCodeObject.co_exceptiontable", CODE_CO_EXCEPTIONTABLE as i64),
    ("PyCodeObject.co_flags", CODE_CO_FLAGS as i64),
    ("PyCodeObject.co_argcount", CODE_CO_ARGCOUNT as i64),
    ("PyCodeObject.co_stacksize", CODE_CO_STACKSIZE as i64),
    ("PyCodeObject.co_firstlineno", CODE_CO_FIRSTLINENO as i64),
    ("PyCodeObject.co_nlocalsplus", CODE_CO_NLOCALSPLUS as i64),
    ("PyCodeObject.co_nlocals", CODE_CO_NLOCALS as i64),
    ("PyCodeObject.co_localsplusnames", CODE_CO_LOCALSPLUSNAMES as i64),
    ("PyCodeObject.co_linetable", CODE_CO_LINETABLE as i64),
    ("PyCodeObject._co_firsttraceable", CODE_CO_FIRSTTRACEABLE as i64),
    ("PyCodeObject.co_extra", CODE_CO_EXTRA as i64),
    ("PyCodeObject.co_code_adaptive", CODE_CO_CODE_ADAPTIVE as i64),
    ("PyCodeObject.co_warmup", CODE_CO_WARMUP as i64),
    ("QUICKENING_WARMUP_DELAY", QUICKENING_WARMUP_DELAY as i64),
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
    ("PyThreadState.recursion_remaining", TSTATE_RECURSION_REMAINING as i64),
    ("PyThreadState.recursion_limit", TSTATE_RECURSION_LIMIT as i64),
    ("PyThreadState.c_profilefunc", TSTATE_C_PROFILEFUNC as i64),
    ("PyThreadState.c_tracefunc", TSTATE_C_TRACEFUNC as i64),
    ("_PyCFrame.use_tracing", CFRAME_USE_TRACING as i64),
    ("PyInterpreterState.ceval", INTERP_CEVAL as i64),
    ("PyInterpreterState.ceval.eval_breaker", INTERP_EVAL_BREAKER as i64),
    ("PyFunctionObject.func_defaults", FUNC_DEFAULTS as i64),
    ("PyFunctionObject.func_kwdefaults", FUNC_KWDEFAULTS as i64),
    ("PyFunctionObject.func_closure", FUNC_CLOSURE as i64),
    ("PyFunctionObject.func_annotations", FUNC_ANNOTATIONS as i64),
    ("PyBaseExceptionObject.args", EXC_ARGS as i64),
    ("PyInterpreterState.import_func", INTERP_IMPORT_FUNC as i64),
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
    ("PyLongObject.ob_base.ob_size", LONG_OB_SIZE as i64),
    ("PyLongObject.ob_digit", LONG_DIGITS as i64),
    ("FRAME_SPECIALS_SIZE", FRAME_SPECIALS_SIZE as i64),
    ("PyFrameObject.f_back", FRAMEOBJ_F_BACK as i64),
    ("PyFrameObject.f_frame", FRAMEOBJ_F_FRAME as i64),
    ("PyFrameObject._f_frame_data", FRAMEOBJ_FRAME_DATA as i64),
];

/// Is a trace or profile function active for this thread? On 3.11 both set the C frame's
/// `use_tracing`, which the eval loop itself checks before every instruction (3.11 has no
/// per-code monitoring, so `code` is not needed).
#[inline(always)]
pub unsafe fn tracing_active(tstate: *const PyThreadState, _code: *const PyObject) -> bool {
    *field::<u8>(tstate_cframe(tstate), CFRAME_USE_TRACING) != 0
}

/// Hand a frame to CPython's own eval loop. On 3.11 a PEP 523 call costs the same recursion
/// budget as an inlined call (one unit, taken by the loop), so nothing needs adjusting.
#[inline(always)]
pub unsafe fn eval_default(
    tstate: *mut PyThreadState,
    frame: *mut InterpreterFrame,
    throwflag: c_int,
) -> *mut PyObject {
    _PyEval_EvalFrameDefault(tstate, frame, throwflag)
}

/// Reference counts are plain on 3.11.
pub const REFCOUNTS: crate::backend::RefcountModel = crate::backend::RefcountModel::Plain;

/// Take the recursion unit the eval loop takes when it starts a frame (`start_frame`). False
/// when the budget is spent: the caller hands the frame to the interpreter, which raises
/// RecursionError (or re-syncs a raised limit) exactly as it always does.
#[inline(always)]
pub unsafe fn enter_recursive_py(tstate: *mut PyThreadState) -> bool {
    let remaining = field::<i32>(tstate.cast(), TSTATE_RECURSION_REMAINING);
    if *remaining <= 0 {
        return false;
    }
    *remaining -= 1;
    true
}

#[inline(always)]
pub unsafe fn leave_recursive_py(tstate: *mut PyThreadState) {
    *field::<i32>(tstate.cast(), TSTATE_RECURSION_REMAINING) += 1;
}

/// A frame whose compiled code returned `result`. On 3.11 `_PyEval_Vector` clears and pops
/// the frame after the frame-evaluation function returns, so there is nothing to do.
#[inline(always)]
pub unsafe fn finish_returned_frame(
    _tstate: *mut PyThreadState,
    _frame: *mut InterpreterFrame,
    result: *mut PyObject,
) -> *mut PyObject {
    result
}

/// The value of an exact int of at most one digit (|value| < 2**30), as CPython's own
/// fast paths read it; None for a bigger int.
#[inline(always)]
pub unsafe fn compact_int_value(obj: *const PyObject) -> Option<i64> {
    let size = *field::<isize>(obj.cast(), LONG_OB_SIZE);
    if !(-1..=1).contains(&size) {
        return None;
    }
    Some(size as i64 * *field::<u32>(obj.cast(), LONG_DIGITS) as i64)
}

/// The inline values of an instance whose type has a managed dict, or null when its dict
/// has been materialized: the pointer four words before the object
/// (`_PyObject_ValuesPointer` in pycore_object.h).
#[inline(always)]
pub unsafe fn instance_values(obj: *const PyObject) -> *mut *mut PyObject {
    *(obj as *const *mut *mut PyObject).sub(4)
}

/// Words of the data stack a frame for `code` takes.
#[inline(always)]
pub unsafe fn frame_words(code: *const PyObject) -> usize {
    let nlocalsplus = *field::<i32>(code.cast(), CODE_CO_NLOCALSPLUS) as usize;
    let stacksize = *field::<i32>(code.cast(), CODE_CO_STACKSIZE) as usize;
    nlocalsplus + stacksize + FRAME_SPECIALS_SIZE
}

/// The specials `_PyFrame_InitializeSpecials` sets that only 3.11 has.
#[inline(always)]
pub unsafe fn init_version_specials(frame: *mut InterpreterFrame) {
    *field::<u8>(frame.cast(), FRAME_IS_ENTRY) = 0;
}

/// After a frame pushed for a direct call has been evaluated: on 3.11 the caller clears and
/// pops it, as `_PyEval_Vector` does with `_PyEvalFrameClearAndPop` (the frame is never at
/// a data-stack chunk's start: direct calls only push within the current chunk).
pub unsafe fn clear_and_pop_called_frame(tstate: *mut PyThreadState, frame: *mut InterpreterFrame) {
    let remaining = field::<i32>(tstate.cast(), TSTATE_RECURSION_REMAINING);
    *remaining -= 1;
    clear_frame(tstate, frame);
    *remaining += 1;
    *field::<*mut InterpreterFrame>(tstate.cast(), TSTATE_DATASTACK_TOP) = frame;
}

/// `_PyFrame_Clear`: release the frame's references, or, when its frame object outlives
/// it, move the frame's data into the frame object.
unsafe fn clear_frame(tstate: *mut PyThreadState, frame: *mut InterpreterFrame) {
    use pyo3_ffi::{Py_DECREF, Py_REFCNT, Py_XDECREF};
    let frame_obj = field::<*mut PyObject>(frame.cast(), FRAME_FRAME_OBJ);
    let f = *frame_obj;
    if !f.is_null() {
        *frame_obj = std::ptr::null_mut();
        if Py_REFCNT(f) > 1 {
            take_ownership(tstate, f, frame);
            Py_DECREF(f);
            return;
        }
        Py_DECREF(f);
    }
    let stacktop = *field::<i32>(frame.cast(), FRAME_STACKTOP) as usize;
    let locals = field::<*mut PyObject>(frame.cast(), FRAME_LOCALSPLUS);
    for i in 0..stacktop {
        Py_XDECREF(*locals.add(i));
    }
    Py_XDECREF(*field::<*mut PyObject>(frame.cast(), FRAME_F_LOCALS));
    Py_DECREF(*field::<*mut PyObject>(frame.cast(), FRAME_F_FUNC));
    Py_DECREF(*field::<*mut PyObject>(frame.cast(), FRAME_F_CODE));
}

/// `_PyFrame_IsIncomplete`: the frame has not run its first traceable instruction yet.
unsafe fn frame_is_incomplete(frame: *const InterpreterFrame) -> bool {
    let code = *field::<*const u8>(frame.cast(), FRAME_F_CODE);
    let first = code.add(CODE_CO_CODE_ADAPTIVE + 2 * *field::<i32>(code, CODE_CO_FIRSTTRACEABLE) as usize);
    *field::<u8>(frame.cast(), FRAME_OWNER) != FRAME_OWNED_BY_GENERATOR
        && *field::<*const u8>(frame.cast(), FRAME_PREV_INSTR) < first
}

/// `take_ownership`: copy the frame into its frame object, which from now on owns the
/// locals, and link the frame object to its caller's.
unsafe fn take_ownership(tstate: *mut PyThreadState, f: *mut PyObject, frame: *mut InterpreterFrame) {
    extern "C" {
        fn PyObject_GC_IsTracked(op: *mut PyObject) -> std::os::raw::c_int;
        fn PyEval_GetFrame() -> *mut PyObject;
    }
    let stacktop = *field::<i32>(frame.cast(), FRAME_STACKTOP) as usize;
    let data = field::<InterpreterFrame>(f.cast(), FRAMEOBJ_FRAME_DATA);
    std::ptr::copy_nonoverlapping(frame as *const u8, data as *mut u8, FRAME_LOCALSPLUS + 8 * stacktop);
    let frame = data;
    *field::<*mut InterpreterFrame>(f.cast(), FRAMEOBJ_F_FRAME) = frame;
    *field::<u8>(frame.cast(), FRAME_OWNER) = FRAME_OWNED_BY_FRAME_OBJECT;
    if frame_is_incomplete(frame) {
        let code = *field::<*const u8>(frame.cast(), FRAME_F_CODE);
        let first = code.add(CODE_CO_CODE_ADAPTIVE + 2 * *field::<i32>(code, CODE_CO_FIRSTTRACEABLE) as usize);
        *field::<*const u8>(frame.cast(), FRAME_PREV_INSTR) = first;
    }
    let previous = field::<*mut InterpreterFrame>(frame.cast(), FRAME_PREVIOUS);
    let mut prev = *previous;
    while !prev.is_null() && frame_is_incomplete(prev) {
        prev = *field::<*mut InterpreterFrame>(prev.cast(), FRAME_PREVIOUS);
    }
    if !prev.is_null() {
        // `_PyFrame_GetFrameObject(prev)`, through the public PyEval_GetFrame, which makes
        // the current frame's object (and keeps any exception in flight).
        let mut back = *field::<*mut PyObject>(prev.cast(), FRAME_FRAME_OBJ);
        if back.is_null() {
            let current = field::<*mut InterpreterFrame>(tstate_cframe(tstate), CFRAME_CURRENT_FRAME);
            let saved = *current;
            *current = prev;
            back = PyEval_GetFrame();
            *current = saved;
        }
        if !back.is_null() {
            pyo3_ffi::Py_INCREF(back);
            *field::<*mut PyObject>(f.cast(), FRAMEOBJ_F_BACK) = back;
        }
        *previous = std::ptr::null_mut();
    }
    if PyObject_GC_IsTracked(f) == 0 {
        pyo3_ffi::PyObject_GC_Track(f.cast());
    }
}

/// Is a trace or profile function set in any thread of the interpreter?
pub unsafe fn tracing_anywhere(interp: *mut super::ffi::InterpreterState) -> bool {
    let mut tstate = pyo3_ffi::PyInterpreterState_ThreadHead(interp.cast());
    while !tstate.is_null() {
        let profile = *field::<usize>(tstate.cast(), TSTATE_C_PROFILEFUNC);
        let trace = *field::<usize>(tstate.cast(), TSTATE_C_TRACEFUNC);
        if profile != 0 || trace != 0 {
            return true;
        }
        tstate = pyo3_ffi::PyThreadState_Next(tstate);
    }
    false
}
