//! Runtime helpers: `extern "C"` functions the generated code calls for the parts of an
//! instruction that are not inline machine code. Each one does what the interpreter's own
//! implementation of the instruction does, through the same C API calls, so results, errors
//! and messages are CPython's. Conventions: arguments are borrowed unless a helper says it
//! consumes them; a null result (or -1) means an exception is set.

use crate::cpython::{self, InterpreterFrame};
use pyo3_ffi::*;
use std::os::raw::c_int;

mod calls;
pub mod attr_cache;
pub mod global_cache;
pub mod numbers;
pub mod strings;
pub mod subscripts;
mod containers;
mod matching;
pub use calls::*;
pub use containers::*;
pub use matching::*;

/// Returned by `for_iter_next` when the iterator is exhausted (no exception set).
pub const EXHAUSTED: usize = 1;

/// BINARY_OP: the interpreter's `binary_ops[oparg]` table.
pub unsafe extern "C" fn binary_op(lhs: *mut PyObject, rhs: *mut PyObject, oparg: u64) -> *mut PyObject {
    match oparg {
        0 => PyNumber_Add(lhs, rhs),
        1 => PyNumber_And(lhs, rhs),
        2 => PyNumber_FloorDivide(lhs, rhs),
        3 => PyNumber_Lshift(lhs, rhs),
        4 => PyNumber_MatrixMultiply(lhs, rhs),
        5 => PyNumber_Multiply(lhs, rhs),
        6 => PyNumber_Remainder(lhs, rhs),
        7 => PyNumber_Or(lhs, rhs),
        8 => PyNumber_Power(lhs, rhs, Py_None()),
        9 => PyNumber_Rshift(lhs, rhs),
        10 => PyNumber_Subtract(lhs, rhs),
        11 => PyNumber_TrueDivide(lhs, rhs),
        12 => PyNumber_Xor(lhs, rhs),
        13 => PyNumber_InPlaceAdd(lhs, rhs),
        14 => PyNumber_InPlaceAnd(lhs, rhs),
        15 => PyNumber_InPlaceFloorDivide(lhs, rhs),
        16 => PyNumber_InPlaceLshift(lhs, rhs),
        17 => PyNumber_InPlaceMatrixMultiply(lhs, rhs),
        18 => PyNumber_InPlaceMultiply(lhs, rhs),
        19 => PyNumber_InPlaceRemainder(lhs, rhs),
        20 => PyNumber_InPlaceOr(lhs, rhs),
        21 => PyNumber_InPlacePower(lhs, rhs, Py_None()),
        22 => PyNumber_InPlaceRshift(lhs, rhs),
        23 => PyNumber_InPlaceSubtract(lhs, rhs),
        24 => PyNumber_InPlaceTrueDivide(lhs, rhs),
        25 => PyNumber_InPlaceXor(lhs, rhs),
        _ => {
            PyErr_SetString(PyExc_SystemError, c"autojit: unknown BINARY_OP".as_ptr());
            std::ptr::null_mut()
        }
    }
}

/// COMPARE_OP with the comparison already decoded (Py_LT..Py_GE).
pub unsafe extern "C" fn rich_compare(lhs: *mut PyObject, rhs: *mut PyObject, op: u64) -> *mut PyObject {
    PyObject_RichCompare(lhs, rhs, op as c_int)
}

/// CONTAINS_OP: a new reference to True/False, or null.
pub unsafe extern "C" fn contains(item: *mut PyObject, container: *mut PyObject, invert: u64) -> *mut PyObject {
    let found = PySequence_Contains(container, item);
    if found < 0 {
        return std::ptr::null_mut();
    }
    PyBool_FromLong(((found != 0) ^ (invert != 0)) as _)
}

/// Truth of `value` (borrowed): 1, 0, or -1 with an exception set.
pub unsafe extern "C" fn truth(value: *mut PyObject) -> i64 {
    PyObject_IsTrue(value) as i64
}

/// Truth of `value`, consuming it: 1, 0, or -1 with an exception set.
pub unsafe extern "C" fn truth_consume(value: *mut PyObject) -> i64 {
    let result = PyObject_IsTrue(value);
    Py_DECREF(value);
    result as i64
}

pub unsafe extern "C" fn unary_negative(value: *mut PyObject) -> *mut PyObject {
    PyNumber_Negative(value)
}

pub unsafe extern "C" fn unary_positive(value: *mut PyObject) -> *mut PyObject {
    PyNumber_Positive(value)
}

pub unsafe extern "C" fn unary_invert(value: *mut PyObject) -> *mut PyObject {
    PyNumber_Invert(value)
}

/// UNARY_NOT: a new reference to True/False, or null.
pub unsafe extern "C" fn unary_not(value: *mut PyObject) -> *mut PyObject {
    let truth = PyObject_IsTrue(value);
    if truth < 0 {
        return std::ptr::null_mut();
    }
    PyBool_FromLong((truth == 0) as _)
}

pub unsafe extern "C" fn get_item(container: *mut PyObject, key: *mut PyObject) -> *mut PyObject {
    PyObject_GetItem(container, key)
}

/// STORE_SUBSCR: 0, or -1 with an exception set.
pub unsafe extern "C" fn set_item(container: *mut PyObject, key: *mut PyObject, value: *mut PyObject) -> i64 {
    PyObject_SetItem(container, key, value) as i64
}

pub unsafe extern "C" fn get_iter(value: *mut PyObject) -> *mut PyObject {
    PyObject_GetIter(value)
}

/// FOR_ITER: the next value (new reference); `EXHAUSTED` when the iterator is done (a
/// StopIteration it raised is cleared, as the interpreter does); null on any other error.
pub unsafe extern "C" fn for_iter_next(iter: *mut PyObject) -> *mut PyObject {
    let next = match (*Py_TYPE(iter)).tp_iternext {
        Some(f) => f(iter),
        None => {
            PyErr_Format(
                PyExc_TypeError,
                c"'%.200s' object is not an iterator".as_ptr(),
                (*Py_TYPE(iter)).tp_name,
            );
            return std::ptr::null_mut();
        }
    };
    if !next.is_null() {
        return next;
    }
    if !PyErr_Occurred().is_null() {
        if PyErr_ExceptionMatches(PyExc_StopIteration) == 0 {
            return std::ptr::null_mut();
        }
        PyErr_Clear();
    }
    EXHAUSTED as *mut PyObject
}

/// Where list and range iterators keep their state, for FOR_ITER in line: found by probing
/// real iterators once (the structs are private to CPython's C files on 3.11). None when a
/// probe does not see the expected layout (FOR_ITER then always calls `for_iter_next`).
#[derive(Clone, Copy, Debug)]
pub struct IterLayout {
    /// `listiterobject`: the next index and the list (null once exhausted).
    pub list_index: i32,
    pub list_seq: i32,
    /// The range iterator: 3.12's `_PyRangeIterObject` (the next value, the step, the count
    /// left); on 3.11 `rangeiterobject` (the count done, the start, the step, the length).
    pub range: RangeLayout,
}

#[derive(Clone, Copy, Debug)]
pub enum RangeLayout {
    /// 3.12: `start`, `step`, `len` (values left).
    StartStepLen { start: i32, step: i32, len: i32 },
    /// 3.11: `index`, `start`, `step`, `len`.
    IndexStartStepLen { index: i32, start: i32, step: i32, len: i32 },
}

pub fn iter_layout() -> Option<IterLayout> {
    static LAYOUT: std::sync::OnceLock<Option<IterLayout>> = std::sync::OnceLock::new();
    *LAYOUT.get_or_init(|| unsafe { probe_iter_layout() })
}

unsafe fn probe_iter_layout() -> Option<IterLayout> {
    let word = |obj: *mut PyObject, offset: i32| *(obj as *const i64).add(offset as usize / 8);
    // A list iterator after one step: index 1, the list.
    let list = PyList_New(0);
    for v in [10, 20, 30] {
        let item = PyLong_FromLong(v);
        PyList_Append(list, item);
        Py_DECREF(item);
    }
    let it = PyObject_GetIter(list);
    let first = PyIter_Next(it);
    let list_ok = Py_TYPE(it) == std::ptr::addr_of_mut!(PyListIter_Type)
        && word(it, 16) == 1
        && word(it, 24) == list as i64;
    Py_XDECREF(first);
    Py_DECREF(it);
    Py_DECREF(list);
    // iter(range(7, 1000, 3)) after one step.
    let args = (PyLong_FromLong(7), PyLong_FromLong(1000), PyLong_FromLong(3));
    let range = PyObject_CallFunctionObjArgs(
        std::ptr::addr_of_mut!(PyRange_Type).cast(),
        args.0,
        args.1,
        args.2,
        std::ptr::null_mut::<PyObject>(),
    );
    Py_DECREF(args.0);
    Py_DECREF(args.1);
    Py_DECREF(args.2);
    if range.is_null() {
        PyErr_Clear();
        return None;
    }
    let it = PyObject_GetIter(range);
    let first = PyIter_Next(it);
    let is_range_iter = Py_TYPE(it) == std::ptr::addr_of_mut!(PyRangeIter_Type);
    let range_layout = if cpython::VERSION >= (3, 12) {
        let ok = is_range_iter && word(it, 16) == 10 && word(it, 24) == 3 && word(it, 32) == 330;
        ok.then_some(RangeLayout::StartStepLen { start: 16, step: 24, len: 32 })
    } else {
        let ok = is_range_iter && word(it, 16) == 1 && word(it, 24) == 7 && word(it, 32) == 3 && word(it, 40) == 331;
        ok.then_some(RangeLayout::IndexStartStepLen { index: 16, start: 24, step: 32, len: 40 })
    };
    Py_XDECREF(first);
    Py_DECREF(it);
    Py_DECREF(range);
    if !list_ok {
        return None;
    }
    Some(IterLayout { list_index: 16, list_seq: 24, range: range_layout? })
}

pub unsafe extern "C" fn get_attr(owner: *mut PyObject, name: *mut PyObject) -> *mut PyObject {
    PyObject_GetAttr(owner, name)
}

/// STORE_ATTR: 0, or -1 with an exception set.
pub unsafe extern "C" fn set_attr(owner: *mut PyObject, name: *mut PyObject, value: *mut PyObject) -> i64 {
    PyObject_SetAttr(owner, name, value) as i64
}

extern "C" {
    fn _PyObject_GetMethod(obj: *mut PyObject, name: *mut PyObject, method: *mut *mut PyObject) -> c_int;
}

/// LOAD_ATTR in method form (LOAD_METHOD on 3.11). `slots[0]` holds the owner (consumed); on
/// success `slots[0..2]` become `[method, owner]` for an unbound method or `[NULL, attribute]`.
/// Returns 0, or -1 with an exception set (the owner released, `slots[0]` cleared).
pub unsafe extern "C" fn load_method(slots: *mut *mut PyObject, name: *mut PyObject) -> i64 {
    let owner = *slots;
    let mut method: *mut PyObject = std::ptr::null_mut();
    let is_method = _PyObject_GetMethod(owner, name, &mut method);
    if is_method != 0 {
        *slots = method;
        *slots.add(1) = owner;
        return 0;
    }
    Py_DECREF(owner);
    if method.is_null() {
        *slots = std::ptr::null_mut();
        return -1;
    }
    *slots = std::ptr::null_mut();
    *slots.add(1) = method;
    0
}

/// LOAD_GLOBAL: globals, then builtins, as the interpreter looks them up; NameError with
/// the interpreter's message (and its `name` attribute, used for suggestions) if missing.
pub unsafe extern "C" fn load_global(frame: *mut InterpreterFrame, name: *mut PyObject) -> *mut PyObject {
    let globals = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_GLOBALS);
    let builtins = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_BUILTINS);
    if PyDict_CheckExact(globals) != 0 && PyDict_CheckExact(builtins) != 0 {
        let value = PyDict_GetItemWithError(globals, name);
        if !value.is_null() {
            return Py_NewRef(value);
        }
        if !PyErr_Occurred().is_null() {
            return std::ptr::null_mut();
        }
        let value = PyDict_GetItemWithError(builtins, name);
        if !value.is_null() {
            return Py_NewRef(value);
        }
        if PyErr_Occurred().is_null() {
            raise_name_error(name);
        }
        return std::ptr::null_mut();
    }
    // Non-dict globals or builtins: the mapping protocol, KeyError meaning "not there".
    for mapping in [globals, builtins] {
        let value = PyObject_GetItem(mapping, name);
        if !value.is_null() {
            return value;
        }
        if PyErr_ExceptionMatches(PyExc_KeyError) == 0 {
            return std::ptr::null_mut();
        }
        PyErr_Clear();
    }
    raise_name_error(name);
    std::ptr::null_mut()
}

/// NameError("name 'x' is not defined") with `.name` set, as `format_exc_check_arg` does.
pub(crate) unsafe fn raise_name_error(name: *mut PyObject) {
    let utf8 = PyUnicode_AsUTF8(name);
    if utf8.is_null() {
        return;
    }
    PyErr_Format(PyExc_NameError, c"name '%.200s' is not defined".as_ptr(), utf8);
    let mut kind = std::ptr::null_mut();
    let mut value = std::ptr::null_mut();
    let mut tb = std::ptr::null_mut();
    PyErr_Fetch(&mut kind, &mut value, &mut tb);
    PyErr_NormalizeException(&mut kind, &mut value, &mut tb);
    if !value.is_null() && PyErr_GivenExceptionMatches(value, PyExc_NameError) != 0 {
        if PyObject_SetAttrString(value, c"name".as_ptr(), name) < 0 {
            PyErr_Clear();
        }
    }
    PyErr_Restore(kind, value, tb);
}

/// CALL. `slots` points at the two slots below the arguments: `[method or NULL, callable or
/// self]`, followed by `nargs` arguments. Every slot is consumed. Returns the result or null.
pub unsafe extern "C" fn call(slots: *mut *mut PyObject, nargs: u64, kwnames: *mut PyObject) -> *mut PyObject {
    let nargs = nargs as usize;
    let method = *slots;
    let (callable, args, total) = if method.is_null() {
        (*slots.add(1), slots.add(2), nargs)
    } else {
        (method, slots.add(1), nargs + 1)
    };
    let nkw = if kwnames.is_null() { 0 } else { PyTuple_Size(kwnames) as usize };
    let result = PyObject_Vectorcall(
        callable,
        args,
        (total - nkw) | PY_VECTORCALL_ARGUMENTS_OFFSET,
        kwnames,
    );
    Py_XDECREF(method);
    Py_DECREF(*slots.add(1));
    for i in 0..nargs {
        Py_DECREF(*slots.add(2 + i));
    }
    result
}

/// BUILD_TUPLE: consumes `n` slots.
pub unsafe extern "C" fn build_tuple(items: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let tuple = PyTuple_New(n as Py_ssize_t);
    if tuple.is_null() {
        for i in 0..n as usize {
            Py_DECREF(*items.add(i));
        }
        return std::ptr::null_mut();
    }
    for i in 0..n as usize {
        PyTuple_SET_ITEM(tuple, i as Py_ssize_t, *items.add(i));
    }
    tuple
}

/// BUILD_LIST: consumes `n` slots.
pub unsafe extern "C" fn build_list(items: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let list = PyList_New(n as Py_ssize_t);
    if list.is_null() {
        for i in 0..n as usize {
            Py_DECREF(*items.add(i));
        }
        return std::ptr::null_mut();
    }
    for i in 0..n as usize {
        PyList_SET_ITEM(list, i as Py_ssize_t, *items.add(i));
    }
    list
}

/// LIST_APPEND: appends `value` (consumed). 0, or -1 with an exception set.
pub unsafe extern "C" fn list_append(list: *mut PyObject, value: *mut PyObject) -> i64 {
    let result = PyList_Append(list, value);
    Py_DECREF(value);
    result as i64
}

/// The interpreter's pending work (signals, pending calls, a GIL drop request, an
/// asynchronous exception; on 3.12 also a scheduled garbage collection), handled by
/// CPython itself: signals through PyErr_CheckSignals, the rest by calling a Python function
/// that does nothing, whose RESUME runs the eval-breaker handling. Returns 0, or -1 with the exception a handler raised (a
/// KeyboardInterrupt, say), its traceback entry for the helper function removed.
#[allow(deprecated)] // PyErr_Fetch: PyErr_GetRaisedException only exists from 3.12 on.
pub unsafe extern "C" fn handle_eval_breaker() -> i64 {
    // Signal handlers first, directly: they receive the current frame (the compiled one,
    // showing its current line) as the interpreter gives it to them.
    if PyErr_CheckSignals() < 0 {
        return -1;
    }
    let poll = crate::hook::poll_function();
    if poll.is_null() {
        return 0;
    }
    let result = PyObject_CallNoArgs(poll);
    if !result.is_null() {
        Py_DECREF(result);
        return 0;
    }
    let mut kind = std::ptr::null_mut();
    let mut value = std::ptr::null_mut();
    let mut tb = std::ptr::null_mut();
    PyErr_Fetch(&mut kind, &mut value, &mut tb);
    PyErr_NormalizeException(&mut kind, &mut value, &mut tb);
    if !tb.is_null() {
        // Drop the helper function's own entry: the exception belongs to the compiled frame.
        let next = PyObject_GetAttrString(tb, c"tb_next".as_ptr());
        Py_DECREF(tb);
        tb = if next.is_null() || next == Py_None() {
            Py_XDECREF(next);
            PyErr_Clear();
            std::ptr::null_mut()
        } else {
            next
        };
        if !value.is_null() {
            PyException_SetTraceback(value, if tb.is_null() { Py_None() } else { tb });
        }
    }
    PyErr_Restore(kind, value, tb);
    -1
}

/// Is tracing, profiling or monitoring active for `code` in this thread? (1 or 0)
pub unsafe extern "C" fn tracing_active_for(tstate: *mut PyThreadState, code: *mut PyObject) -> i64 {
    cpython::tracing_active(tstate, code) as i64
}

/// RAISE_VARARGS with an exception (and a cause): the interpreter's `do_raise` for every
/// form but the bare re-raise. Consumes both; always returns -1 with the exception set.
pub unsafe extern "C" fn raise(exc: *mut PyObject, cause: *mut PyObject) -> i64 {
    let value;
    // The type raised: the class called, or the instance's class (as do_raise).
    let kind;
    if PyExceptionClass_Check(exc) != 0 {
        value = PyObject_CallNoArgs(exc);
        if value.is_null() {
            Py_DECREF(exc);
            Py_XDECREF(cause);
            return -1;
        }
        if PyExceptionInstance_Check(value) == 0 {
            PyErr_Format(
                PyExc_TypeError,
                c"calling %R should have returned an instance of BaseException, not %R".as_ptr(),
                exc,
                Py_TYPE(value),
            );
            Py_DECREF(value);
            Py_DECREF(exc);
            Py_XDECREF(cause);
            return -1;
        }
        kind = exc;
    } else if PyExceptionInstance_Check(exc) != 0 {
        value = exc;
        kind = Py_NewRef(Py_TYPE(exc) as *mut PyObject);
    } else {
        Py_DECREF(exc);
        Py_XDECREF(cause);
        PyErr_SetString(PyExc_TypeError, c"exceptions must derive from BaseException".as_ptr());
        return -1;
    }
    if !cause.is_null() {
        let fixed_cause;
        if PyExceptionClass_Check(cause) != 0 {
            fixed_cause = PyObject_CallNoArgs(cause);
            Py_DECREF(cause);
            if fixed_cause.is_null() {
                Py_DECREF(value);
                Py_DECREF(kind);
                return -1;
            }
        } else if PyExceptionInstance_Check(cause) != 0 {
            fixed_cause = cause;
        } else if cause == Py_None() {
            Py_DECREF(cause);
            fixed_cause = std::ptr::null_mut();
        } else {
            Py_DECREF(cause);
            Py_DECREF(value);
            Py_DECREF(kind);
            PyErr_SetString(PyExc_TypeError, c"exception causes must derive from BaseException".as_ptr());
            return -1;
        }
        PyException_SetCause(value, fixed_cause);
    }
    PyErr_SetObject(kind, value);
    Py_DECREF(value);
    Py_DECREF(kind);
    -1
}

/// MAKE_CELL: replace local `index` with a cell holding its value. 0, or -1.
pub unsafe extern "C" fn make_cell(locals: *mut *mut PyObject) -> i64 {
    let initial = *locals;
    let cell = PyCell_New(initial);
    if cell.is_null() {
        return -1;
    }
    *locals = cell;
    Py_XDECREF(initial);
    0
}

/// COPY_FREE_VARS: the closure's cells into the last `n` locals.
pub unsafe extern "C" fn copy_free_vars(frame: *mut InterpreterFrame, first_slot: u64, n: u64) {
    let function = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_FUNCTION);
    let closure = PyFunction_GetClosure(function);
    let locals = cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS);
    for i in 0..n as usize {
        *locals.add(first_slot as usize + i) = Py_NewRef(PyTuple_GET_ITEM(closure, i as Py_ssize_t));
    }
}

/// FORMAT_VALUE, consuming its inputs: `slots[0]` is the value, `slots[1]` the format spec
/// when `oparg & 4`.
pub unsafe extern "C" fn format_value(slots: *mut *mut PyObject, oparg: u64) -> *mut PyObject {
    let mut value = *slots;
    let spec = if oparg & 4 != 0 { *slots.add(1) } else { std::ptr::null_mut() };
    let conversion: Option<unsafe extern "C" fn(*mut PyObject) -> *mut PyObject> = match oparg & 3 {
        0 => None,
        1 => Some(PyObject_Str),
        2 => Some(PyObject_Repr),
        _ => Some(PyObject_ASCII),
    };
    if let Some(convert) = conversion {
        let converted = convert(value);
        Py_DECREF(value);
        if converted.is_null() {
            Py_XDECREF(spec);
            return std::ptr::null_mut();
        }
        value = converted;
    }
    if PyUnicode_CheckExact(value) != 0 && spec.is_null() {
        return value;
    }
    let result = PyObject_Format(value, spec);
    Py_DECREF(value);
    Py_XDECREF(spec);
    result
}

extern "C" {
    fn _PyUnicode_JoinArray(separator: *mut PyObject, items: *const *mut PyObject, n: Py_ssize_t) -> *mut PyObject;
}

/// BUILD_STRING: join `n` strings, consuming them.
pub unsafe extern "C" fn build_string(items: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let empty = PyUnicode_FromStringAndSize(std::ptr::null(), 0);
    let result = if empty.is_null() {
        std::ptr::null_mut()
    } else {
        let joined = _PyUnicode_JoinArray(empty, items, n as Py_ssize_t);
        Py_DECREF(empty);
        joined
    };
    for i in 0..n as usize {
        Py_DECREF(*items.add(i));
    }
    result
}

/// UNPACK_SEQUENCE's fast case: an exact tuple or list of exactly `n` items, unpacked into
/// `slots[0..n]` (last item lowest), consuming the sequence in `slots[0]`. Returns 0, or 1
/// (nothing changed) when the interpreter must do it: any other iterable or a wrong length,
/// with its own error messages.
pub unsafe extern "C" fn unpack_exact(slots: *mut *mut PyObject, n: u64) -> i64 {
    let seq = *slots;
    let n = n as usize;
    let items: *mut *mut PyObject = if PyTuple_CheckExact(seq) != 0 && PyTuple_GET_SIZE(seq) as usize == n {
        cpython::field::<*mut PyObject>(seq.cast(), 24)
    } else if PyList_CheckExact(seq) != 0 && PyList_GET_SIZE(seq) as usize == n {
        (*(seq as *mut PyListObject)).ob_item
    } else {
        return 1;
    };
    for i in 0..n {
        *slots.add(i) = Py_NewRef(*items.add(n - 1 - i));
    }
    Py_DECREF(seq);
    0
}

/// BINARY_SLICE (3.12): `container[start:stop]`, consuming all three.
pub unsafe extern "C" fn binary_slice(slots: *mut *mut PyObject) -> *mut PyObject {
    let (container, start, stop) = (*slots, *slots.add(1), *slots.add(2));
    let slice = PySlice_New(start, stop, std::ptr::null_mut());
    Py_DECREF(start);
    Py_DECREF(stop);
    let result = if slice.is_null() {
        std::ptr::null_mut()
    } else {
        let item = PyObject_GetItem(container, slice);
        Py_DECREF(slice);
        item
    };
    Py_DECREF(container);
    result
}

/// BUILD_SLICE with 2 or 3 parts, consuming them.
pub unsafe extern "C" fn build_slice(slots: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let step = if n == 3 { *slots.add(2) } else { std::ptr::null_mut() };
    let slice = PySlice_New(*slots, *slots.add(1), step);
    for i in 0..n as usize {
        Py_DECREF(*slots.add(i));
    }
    slice
}

/// BUILD_MAP with `n` key/value pairs, consuming them.
pub unsafe extern "C" fn build_map(slots: *mut *mut PyObject, n: u64) -> *mut PyObject {
    let n = n as usize;
    let mut dict = PyDict_New();
    for i in 0..n {
        if !dict.is_null() && PyDict_SetItem(dict, *slots.add(2 * i), *slots.add(2 * i + 1)) < 0 {
            Py_DECREF(dict);
            dict = std::ptr::null_mut();
        }
    }
    for i in 0..2 * n {
        Py_DECREF(*slots.add(i));
    }
    dict
}

/// STORE_GLOBAL: 0 or -1; consumes the value.
pub unsafe extern "C" fn store_global(frame: *mut InterpreterFrame, name: *mut PyObject, value: *mut PyObject) -> i64 {
    let globals = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_GLOBALS);
    let result = PyDict_SetItem(globals, name, value);
    Py_DECREF(value);
    result as i64
}

/// STORE_SLICE (3.12): `container[start:stop] = value`; slots are value, container, start,
/// stop, all consumed. 0 or -1.
pub unsafe extern "C" fn store_slice(slots: *mut *mut PyObject) -> i64 {
    let (value, container, start, stop) = (*slots, *slots.add(1), *slots.add(2), *slots.add(3));
    let slice = PySlice_New(start, stop, std::ptr::null_mut());
    Py_DECREF(start);
    Py_DECREF(stop);
    let result = if slice.is_null() {
        -1
    } else {
        let r = PyObject_SetItem(container, slice, value);
        Py_DECREF(slice);
        r
    };
    Py_DECREF(value);
    Py_DECREF(container);
    result as i64
}

/// 3.11: an unbound local read by the second half of a superinstruction. If the code is warm
/// (the interpreter would have quickened it by now: `co_warmup` counts the interpreter's
/// RESUMEs and back-edges, the code state counts compiled calls and back-edges), set the
/// interpreter's UnboundLocalError and return 1; otherwise return 0 and let the interpreter
/// run the load itself.
#[cfg(autojit_py311)]
pub unsafe extern "C" fn unbound_local_if_warm(code: *mut PyObject, index: u64) -> i64 {
    let warmup = *cpython::field::<i16>(code.cast(), cpython::CODE_CO_WARMUP) as i64;
    let state = crate::codestate::get(code);
    let compiled = if state.is_null() { 0 } else { ((*state).calls + (*state).backedges) as i64 };
    let warm = warmup == 0 || warmup + compiled >= 0;
    if !warm {
        return 0;
    }
    let names = *cpython::field::<*mut PyObject>(code.cast(), cpython::CODE_CO_LOCALSPLUSNAMES);
    let name = PyTuple_GetItem(names, index as Py_ssize_t);
    let utf8 = if name.is_null() { std::ptr::null() } else { PyUnicode_AsUTF8(name) };
    if utf8.is_null() {
        return 0;
    }
    PyErr_Format(
        PyExc_UnboundLocalError,
        c"cannot access local variable '%s' where it is not associated with a value".as_ptr(),
        utf8,
    );
    1
}

#[cfg(not(autojit_py311))]
pub unsafe extern "C" fn unbound_local_if_warm(_code: *mut PyObject, _index: u64) -> i64 {
    0
}
