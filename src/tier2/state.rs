//! Tier 2's view of values: the types observed in the frame at loop entry (the variant key)
//! and the abstract state the compiler tracks through the loop.

use super::numpy;
use crate::cpython::{self, InterpreterFrame};
use pyo3::prelude::*;
use pyo3_ffi::*;

/// The type of a frame value at loop entry, as far as tier 2 cares.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum EntryTy {
    Null,
    /// An exact, finite Python float.
    Float,
    /// An exact, finite numpy.float64.
    NpF64,
    /// An exact Python int that fits in 64 bits.
    Int,
    /// True or False.
    Bool,
    /// An exact numpy.int64, numpy.int32 or (finite) numpy.float32 scalar.
    NpScalar(NKind),
    /// An ndarray of float64, float32, int64 or int32 (native byte order, aligned) with
    /// `ndim` dimensions.
    Array { ndim: u8, writeable: bool, dtype: numpy::Dtype },
    /// An exact list.
    List,
    /// An exact tuple.
    Tuple,
    /// An exact range iterator; `unit_step`: its step is 1.
    RangeIter { unit_step: bool },
    /// An iterator over a list, a tuple or a one-dimensional array (`for x in data`), not
    /// exhausted.
    SeqIter(SeqKind),
    /// Anything else (kept boxed, never operated on by tier 2).
    Other,
}

/// What a sequence iterator runs over.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SeqKind {
    List,
    Tuple,
    /// A one-dimensional ndarray (native byte order, aligned), iterated through CPython's
    /// sequence iterator as numpy's `iter()` does.
    Array(numpy::Dtype),
}

/// The variant key: the entry type of every local, then of every stack value.
pub type EntryKey = Vec<EntryTy>;

/// Classify the frame's locals and its `depth` stack values.
pub unsafe fn observe(py: Python<'_>, frame: *mut InterpreterFrame, code: *mut PyObject, depth: u32) -> Option<EntryKey> {
    let nlocalsplus = *cpython::field::<i32>(code.cast(), cpython::CODE_CO_NLOCALSPLUS) as u32;
    let slots = cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS);
    let np = numpy::get(py);
    let mut key = Vec::with_capacity((nlocalsplus + depth) as usize);
    for i in 0..nlocalsplus + depth {
        key.push(classify(*slots.add(i as usize), np));
    }
    Some(key)
}

/// The Python type name of each of the frame's locals and `depth` stack values ("" if unset).
pub unsafe fn type_names(frame: *mut InterpreterFrame, code: *mut PyObject, depth: u32) -> Vec<String> {
    let nlocalsplus = *cpython::field::<i32>(code.cast(), cpython::CODE_CO_NLOCALSPLUS) as u32;
    let slots = cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS);
    (0..nlocalsplus + depth)
        .map(|i| {
            let obj = *slots.add(i as usize);
            if obj.is_null() {
                return String::new();
            }
            std::ffi::CStr::from_ptr((*Py_TYPE(obj)).tp_name).to_string_lossy().into_owned()
        })
        .collect()
}

impl EntryTy {
    /// How tier 2 treats a value of this entry type, in words (explain()).
    pub fn describe(&self) -> String {
        match self {
            EntryTy::Null => "unset".into(),
            EntryTy::Float => "float (unboxed)".into(),
            EntryTy::NpF64 => "numpy.float64 (unboxed)".into(),
            EntryTy::Int => "int (unboxed, 64-bit)".into(),
            EntryTy::Array { ndim, writeable, dtype } => {
                let dtype = match dtype {
                    numpy::Dtype::F64 => "float64",
                    numpy::Dtype::F32 => "float32",
                    numpy::Dtype::I64 => "int64",
                    numpy::Dtype::I32 => "int32",
                };
                format!("{dtype} ndarray, {ndim}-d{}", if *writeable { "" } else { ", read-only" })
            }
            EntryTy::Bool => "bool (unboxed)".into(),
            EntryTy::NpScalar(kind) => format!("numpy.{} scalar (unboxed)", match kind {
                NKind::I64 => "int64",
                NKind::I32 => "int32",
                NKind::F32 => "float32",
            }),
            EntryTy::Tuple => "tuple".into(),
            EntryTy::List => "list".into(),
            EntryTy::RangeIter { unit_step: true } => "range iterator, step 1 (unboxed)".into(),
            EntryTy::RangeIter { unit_step: false } => "range iterator (unboxed)".into(),
            EntryTy::SeqIter(SeqKind::List) => "list iterator (unboxed)".into(),
            EntryTy::SeqIter(SeqKind::Tuple) => "tuple iterator (unboxed)".into(),
            EntryTy::SeqIter(SeqKind::Array(_)) => "1-d array iterator (unboxed)".into(),
            EntryTy::Other => "other (kept boxed)".into(),
        }
    }
}

unsafe fn classify(obj: *mut PyObject, np: Option<&numpy::Numpy>) -> EntryTy {
    if obj.is_null() {
        return EntryTy::Null;
    }
    let ty = Py_TYPE(obj);
    if ty == std::ptr::addr_of_mut!(PyFloat_Type) {
        return if PyFloat_AS_DOUBLE(obj).is_finite() { EntryTy::Float } else { EntryTy::Other };
    }
    if ty == std::ptr::addr_of_mut!(PyLong_Type) {
        let mut overflow = 0;
        PyLong_AsLongLongAndOverflow(obj, &mut overflow);
        if !PyErr_Occurred().is_null() {
            PyErr_Clear();
            return EntryTy::Other;
        }
        return if overflow == 0 { EntryTy::Int } else { EntryTy::Other };
    }
    if ty == std::ptr::addr_of_mut!(PyBool_Type) {
        return EntryTy::Bool;
    }
    if ty == std::ptr::addr_of_mut!(PyList_Type) {
        return EntryTy::List;
    }
    if ty == std::ptr::addr_of_mut!(PyTuple_Type) {
        return EntryTy::Tuple;
    }
    if ty == std::ptr::addr_of_mut!(PyRangeIter_Type) && super::exits::range_iter_layout_ok() {
        // A step of 1 (most loops) is compiled as a constant.
        return EntryTy::RangeIter { unit_step: super::exits::range_iter_read(obj).1 == 1 };
    }
    if let Some(kind) = seq_iter_kind(obj, np) {
        return EntryTy::SeqIter(kind);
    }
    if let Some(np) = np {
        if ty as usize == np.float64 {
            let value = *((obj as usize + numpy::SCALAR_VALUE) as *const f64);
            return if value.is_finite() { EntryTy::NpF64 } else { EntryTy::Other };
        }
        if ty as usize == np.int64 {
            return EntryTy::NpScalar(NKind::I64);
        }
        if ty as usize == np.int32 {
            return EntryTy::NpScalar(NKind::I32);
        }
        if ty as usize == np.float32 {
            let value = *((obj as usize + numpy::SCALAR_VALUE) as *const f32);
            return if value.is_finite() { EntryTy::NpScalar(NKind::F32) } else { EntryTy::Other };
        }
        if ty as usize == np.ndarray {
            let base = obj as usize;
            let nd = *((base + numpy::ARRAY_ND as usize) as *const i32);
            let descr = *((base + numpy::ARRAY_DESCR as usize) as *const usize);
            let flags = *((base + numpy::ARRAY_FLAGS as usize) as *const i32);
            let type_num = *((descr + numpy::DESCR_TYPE_NUM) as *const i32);
            let byteorder = *((descr + numpy::DESCR_BYTEORDER) as *const u8);
            let native = matches!(byteorder, b'=' | b'|') || (cfg!(target_endian = "little") && byteorder == b'<');
            let dtype = np.type_nums.iter().find(|(num, _)| *num == type_num).map(|(_, d)| *d);
            if let Some(dtype) = dtype {
                if native && flags & numpy::NPY_ARRAY_ALIGNED != 0 && (1..=3).contains(&nd) {
                    return EntryTy::Array { ndim: nd as u8, writeable: flags & numpy::NPY_ARRAY_WRITEABLE != 0, dtype };
                }
            }
        }
    }
    EntryTy::Other
}

/// A list, tuple or sequence iterator whose sequence tier 2 can read (its layout checked),
/// not exhausted.
unsafe fn seq_iter_kind(obj: *mut PyObject, np: Option<&numpy::Numpy>) -> Option<SeqKind> {
    let ty = Py_TYPE(obj);
    let iterators = [
        std::ptr::addr_of_mut!(PyListIter_Type),
        std::ptr::addr_of_mut!(PyTupleIter_Type),
        std::ptr::addr_of_mut!(PySeqIter_Type),
    ];
    if !iterators.contains(&ty) || !super::exits::seq_iter_layout_ok() {
        return None;
    }
    let (index, seq) = super::exits::seq_iter_read(obj);
    if seq.is_null() || index < 0 {
        return None;
    }
    let seq_ty = Py_TYPE(seq);
    if ty == std::ptr::addr_of_mut!(PyListIter_Type) && seq_ty == std::ptr::addr_of_mut!(PyList_Type) {
        return Some(SeqKind::List);
    }
    if ty == std::ptr::addr_of_mut!(PyTupleIter_Type) && seq_ty == std::ptr::addr_of_mut!(PyTuple_Type) {
        return Some(SeqKind::Tuple);
    }
    if ty == std::ptr::addr_of_mut!(PySeqIter_Type) {
        if let EntryTy::Array { ndim: 1, dtype, .. } = classify(seq, np) {
            return Some(SeqKind::Array(dtype));
        }
    }
    None
}

/// `name` looked up as LOAD_GLOBAL does (globals, then builtins, both exact dicts); the
/// object's address, or 0.
pub unsafe fn lookup_global(_py: Python<'_>, frame: *mut InterpreterFrame, name: *mut PyObject) -> usize {
    let globals = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_GLOBALS);
    let builtins = *cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_F_BUILTINS);
    if PyDict_CheckExact(globals) == 0 || PyDict_CheckExact(builtins) == 0 {
        return 0;
    }
    for dict in [globals, builtins] {
        let value = PyDict_GetItemWithError(dict, name);
        if !value.is_null() {
            return value as usize;
        }
        if !PyErr_Occurred().is_null() {
            PyErr_Clear();
            return 0;
        }
    }
    0
}

/// `module.name` as found in the module's own dict (the address of the object, or 0), for an
/// exact module object only: no `__getattr__` or descriptor, so no Python code, runs.
pub unsafe fn module_attribute(module: *mut PyObject, name: *mut PyObject) -> usize {
    if module.is_null() || PyModule_CheckExact(module) == 0 {
        return 0;
    }
    let dict = PyModule_GetDict(module);
    if dict.is_null() || PyDict_CheckExact(dict) == 0 {
        return 0;
    }
    let value = PyDict_GetItemWithError(dict, name);
    if value.is_null() && !PyErr_Occurred().is_null() {
        PyErr_Clear();
    }
    value as usize
}

/// The module `name` if it is in `sys.modules` (an owned reference), without importing it
/// or running any Python code.
pub fn loaded_module<'py>(py: Python<'py>, name: &std::ffi::CStr) -> Option<Bound<'py, PyAny>> {
    // SAFETY: C-level lookups in sys.modules; the GIL is held (py).
    unsafe {
        let modules = PyImport_GetModuleDict();
        if modules.is_null() || PyDict_CheckExact(modules) == 0 {
            return None;
        }
        // (PyDict_GetItemString reports no errors: NULL is "not there".)
        let module = PyDict_GetItemString(modules, name.as_ptr());
        if module.is_null() {
            return None;
        }
        Some(Bound::from_borrowed_ptr(py, module))
    }
}

// --- The compiler's abstract state -------------------------------------------------------

/// Which Python type an unboxed double boxes to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FKind {
    Float,
    NpF64,
}

/// numpy scalars other than float64, kept exact: numpy.int64 and numpy.int32 unboxed as an
/// int64 (an int32 always in its range), numpy.float32 as the double it converts to exactly.
/// They are their own kind of value so that nothing treats them as Python ints or floats:
/// numpy's rules for them (wrapping, promotion) differ, and only what is proved the same is
/// compiled.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NKind {
    I64,
    I32,
    F32,
}

impl NKind {
    /// Held in an integer slot (else a double slot).
    pub fn is_int(self) -> bool {
        matches!(self, NKind::I64 | NKind::I32)
    }
}

/// Which Python type an unboxed truth value boxes to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BKind {
    Bool,
    NpBool,
}

/// Where an unboxed value lives.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Home {
    /// A spill slot.
    Spill(u32),
    /// A compile-time constant (f64 bits or i64).
    Imm(u64),
}

/// Which object an unboxed value is, for boxing it back with CPython's identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Origin {
    /// A value computed here: box a new object (as CPython's operation would create).
    Fresh,
    /// Unchanged since entry: the frame still holds its object.
    Entry,
    /// A constant from co_consts (address).
    Const(usize),
    /// The same object as local `k` holds.
    Local(u32),
    /// An existing object whose address is in pointer spill `p` (an item read from a list).
    Ptr(u32),
}

/// The builtins tier 2 knows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Builtin {
    Range,
    Len,
    Abs,
    Min,
    Max,
    /// The types `int` and `float` (called as conversions).
    IntType,
    FloatType,
    /// The `math` module itself.
    MathModule,
    /// A function of the `math` module computed by a C library function.
    Math(MathFn),
}

/// The `math` functions tier 2 calls directly: each is `math_1` in CPython's mathmodule.c,
/// which calls the C library function of the same name and raises on a non-finite result
/// from a finite argument (tier 2 exits instead, so the interpreter raises it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MathFn {
    Sqrt,
    Exp,
    Log,
    Sin,
    Cos,
    Tan,
    Atan,
    Tanh,
    Fabs,
    Asin,
    Acos,
    Asinh,
    Acosh,
    Atanh,
    Sinh,
    Cosh,
    /// `log2` and `log10`: CPython's loghelper calls the C function for a positive finite
    /// argument (ints converted to double first) and raises otherwise.
    Log2,
    Log10,
    /// `floor`, `ceil` and `trunc` of an exact Python float: an int (CPython's
    /// `PyLong_FromDouble(floor(x))`, `float.__trunc__`).
    Floor,
    Ceil,
    Trunc,
}

impl MathFn {
    pub const ALL: [(&'static str, MathFn); 21] = [
        ("sqrt", MathFn::Sqrt),
        ("exp", MathFn::Exp),
        ("log", MathFn::Log),
        ("sin", MathFn::Sin),
        ("cos", MathFn::Cos),
        ("tan", MathFn::Tan),
        ("atan", MathFn::Atan),
        ("tanh", MathFn::Tanh),
        ("fabs", MathFn::Fabs),
        ("asin", MathFn::Asin),
        ("acos", MathFn::Acos),
        ("asinh", MathFn::Asinh),
        ("acosh", MathFn::Acosh),
        ("atanh", MathFn::Atanh),
        ("sinh", MathFn::Sinh),
        ("cosh", MathFn::Cosh),
        ("log2", MathFn::Log2),
        ("log10", MathFn::Log10),
        ("floor", MathFn::Floor),
        ("ceil", MathFn::Ceil),
        ("trunc", MathFn::Trunc),
    ];
}

/// A local variable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Local {
    Null,
    /// A boxed object the frame holds (arrays, lists, anything else).
    Obj(EntryTy),
    F(FKind, Origin),
    I(Origin),
    N(NKind, Origin),
    /// A truth value (True/False or numpy's; no identity beyond the singletons).
    B(BKind),
}

/// A value on the evaluation stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Slot {
    F(FKind, Home, Origin),
    I(Home, Origin),
    N(NKind, Home, Origin),
    B(BKind, Home),
    /// The object held by local `k`.
    LocalObj(u32, EntryTy),
    /// A builtin function (address), resolved under an assumption checked at entry.
    Builtin(usize, Builtin),
    Null,
    /// An object the frame's stack slot has held since entry (owned by the frame).
    EntryObj,
    /// A range iterator; `real`: the frame's stack slot holds the object since entry.
    /// Its counters (next, step, remaining) are in range spills; `unit_step`: the step is
    /// 1, and the code adds the constant.
    RangeIter { real: bool, unit_step: bool },
    /// A sequence iterator the frame's stack slot holds since entry; its index is in the
    /// position's first range spill, its sequence's facts in cache slots.
    SeqIter(SeqKind),
    /// `range(start, stop, step)` not yet iterated; (start, stop, step) in range spills.
    /// `unit_step`: the step is the constant 1.
    Range { unit_step: bool },
    /// A tuple of `n` (2 or 3) ints, an index tuple: each item's home and origin (a local's
    /// own home, a constant, or the position's range spills for values computed on the stack).
    Tuple(u8, [(Home, Origin); 3]),
    /// A constant object (address) tier 2 does not operate on.
    ConstObj(usize),
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct State {
    pub locals: Vec<Local>,
    pub stack: Vec<Slot>,
    /// Array elements already loaded on this path and unchanged since (indices into the
    /// compilation's `MemoKey`s, sorted): a second `data[i]` reuses the double in its memo
    /// slot. Part of the state, so a loop body that loaded an element it does not change
    /// gets a version of its own for the next iterations, which reuse it (the load is
    /// hoisted out of the loop by peeling its first iteration). Memos are a cache, not
    /// frame state: exits ignore them.
    pub memos: Vec<u8>,
}

/// An array element by where its operands live: the array local and, per axis, the index
/// as a constant or a local's own slot. Valid until either local is stored to or an array
/// that may share its memory is written (a store into an array checked at entry to share
/// none with the other array locals changes only its own elements).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MemoKey {
    pub array: u32,
    pub index: [Option<Home>; 3],
}
