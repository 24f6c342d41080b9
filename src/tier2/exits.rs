//! Entering and leaving tier-2 code: unboxing the frame's values into spill slots at entry,
//! and, at every exit, boxing every live value back into the frame in CPython's types.

use super::numpy;
use super::state::{BKind, FKind, Home, NKind, Origin};
use crate::cpython::{self, InterpreterFrame};
use once_cell::sync::OnceCell;
use pyo3_ffi::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Where things live in the spill area: `nl` locals, `ss` stack positions, `cached` slots of
/// array and list facts read once at entry.
///
/// A local or stack position has two slots: one for its value as an integer (or truth value),
/// one (`float_view`) for its value as a double. A position that holds an int in one place
/// and a double in another (the range counter, then a sum, at the same stack depth) thus
/// gives each kind a slot of its own, and each may live in a register.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub nl: u32,
    pub ss: u32,
    pub cached: u32,
}

/// Array elements remembered per compilation (see `State::memos`), each in a slot of its own.
pub const MEMOS: u32 = 4;

impl Layout {
    pub fn local(&self, k: u32) -> u32 {
        k
    }
    pub fn stack(&self, d: u32) -> u32 {
        self.nl + d
    }
    /// Range spills of stack position `d`: (next or start, step or stop, remaining or step).
    pub fn range(&self, d: u32, i: u32) -> u32 {
        self.nl + self.ss + 3 * d + i
    }
    pub fn local_ptr(&self, k: u32) -> u32 {
        self.nl + 4 * self.ss + k
    }
    pub fn stack_ptr(&self, d: u32) -> u32 {
        2 * self.nl + 4 * self.ss + d
    }
    /// The slot holding the double value of local or stack slot `slot` (other slots hold
    /// integers only and are their own).
    pub fn float_view(&self, slot: u32) -> u32 {
        if slot < self.nl + self.ss {
            2 * self.nl + 5 * self.ss + slot
        } else {
            slot
        }
    }
    /// The `i`th slot of facts cached at entry.
    pub fn cache(&self, i: u32) -> u32 {
        3 * self.nl + 6 * self.ss + i
    }
    /// The double of remembered array element `i` (`State::memos`).
    pub fn memo(&self, i: u32) -> u32 {
        3 * self.nl + 6 * self.ss + self.cached + i
    }
    /// Total slots, rounded to keep the machine stack 16-byte aligned.
    pub fn slots(&self) -> u32 {
        (3 * self.nl + 6 * self.ss + self.cached + MEMOS + 1) & !1
    }
}

/// An unboxed value and how to box it.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    F(FKind, Home, Origin),
    I(Home, Origin),
    N(NKind, Home, Origin),
    B(BKind, Home),
}

/// What a frame stack slot must hold at an exit.
#[derive(Clone, Copy, Debug)]
pub enum SlotFill {
    Value(Value),
    /// A new reference to the object local `k` holds.
    IncRefLocal(u32),
    /// A new reference to a known object.
    IncRef(usize),
    Null,
    /// The object the slot holds since entry stays.
    Keep,
    /// The range iterator the slot holds since entry: write its counters back.
    RangeIterWriteback,
    /// The sequence iterator the slot holds since entry: write its index back.
    SeqIterWriteback,
    /// A range iterator that only existed in registers: create it.
    NewRangeIter,
    /// `range(start, stop, step)` that only existed in registers: create it.
    NewRange,
    /// A tuple of `n` ints: each one's home and origin.
    Tuple(u8, [(Home, Origin); 3]),
}

/// Everything an exit needs, owned by the loop's code.
pub struct ExitMap {
    pub resume: usize,
    /// A guard exit (counts toward abandoning the variant); loop ends and eval-breaker exits
    /// do not count.
    pub counted: bool,
    pub layout: Layout,
    /// Locals changed in tier 2: (local, value).
    pub locals: Vec<(u32, Value)>,
    /// Stack positions 0..depth.
    pub stack: Vec<SlotFill>,
    pub guard_exits: *const AtomicU32,
    pub reason: &'static str,
    /// The instruction the exit continues at (code units) and its opcode, for explain().
    pub site: (usize, &'static str),
    /// Times this exit was taken (explain() reports exits by reason and instruction).
    pub taken: std::sync::atomic::AtomicU64,
    /// Back-edges taken in tier 2 are counted in a spill slot and added to the code state's
    /// counter here: (counter address, slot); none when the code has no state.
    pub backedges: Option<(usize, u32)>,
}

/// What to unbox at entry.
pub struct EntryMap {
    pub layout: Layout,
    /// (stored array local, other array local) pairs whose memory must not overlap at entry:
    /// the code then keeps elements of the other array it remembered across stores into the
    /// first (`State::memos`).
    pub disjoint: Vec<(u32, u32)>,
    /// (local, kind): locals entering unboxed.
    pub floats: Vec<(u32, FKind)>,
    pub ints: Vec<u32>,
    /// (local, kind): numpy int64/int32/float32 scalars entering unboxed.
    pub scalars: Vec<(u32, NKind)>,
    /// Stack positions holding the range iterators the loop runs.
    pub range_iters: Vec<u32>,
    /// Stack positions holding list, tuple and array iterators.
    pub seq_iters: Vec<u32>,
}

unsafe fn slot_ptr(frame: *mut InterpreterFrame, index: u32) -> *mut *mut PyObject {
    cpython::field::<*mut PyObject>(frame.cast(), cpython::FRAME_LOCALSPLUS + 8 * index as usize)
}

/// Entry: fill the spill area from the frame. Called once per entry into tier-2 code.
pub unsafe extern "C" fn enter(frame: *mut InterpreterFrame, spills: *mut u64, map: *const EntryMap) {
    let map = &*map;
    for &(k, _) in &map.floats {
        let obj = *slot_ptr(frame, k);
        // Python floats and numpy float64 scalars both keep the double at offset 16.
        *spills.add(map.layout.float_view(map.layout.local(k)) as usize) = *((obj as usize + 16) as *const u64);
    }
    for &k in &map.ints {
        *spills.add(map.layout.local(k) as usize) = PyLong_AsLongLong(*slot_ptr(frame, k)) as u64;
    }
    for &(k, kind) in &map.scalars {
        let value = (*slot_ptr(frame, k) as usize + numpy::SCALAR_VALUE) as *const u8;
        let (slot, bits) = match kind {
            NKind::I64 => (map.layout.local(k), *(value as *const i64) as u64),
            NKind::I32 => (map.layout.local(k), *(value as *const i32) as i64 as u64),
            NKind::F32 => (map.layout.float_view(map.layout.local(k)), (*(value as *const f32) as f64).to_bits()),
        };
        *spills.add(slot as usize) = bits;
    }
    for &d in &map.seq_iters {
        let (index, _) = seq_iter_read(*slot_ptr(frame, map.layout.nl + d));
        *spills.add(map.layout.range(d, 0) as usize) = index as u64;
    }
    for &d in &map.range_iters {
        let obj = *slot_ptr(frame, map.layout.nl + d);
        let (next, step, remaining) = range_iter_read(obj);
        *spills.add(map.layout.range(d, 0) as usize) = next as u64;
        *spills.add(map.layout.range(d, 1) as usize) = step as u64;
        *spills.add(map.layout.range(d, 2) as usize) = remaining as u64;
    }
}

/// Exit: box every live value into the frame; returns the tier-1 address to continue at.
pub unsafe extern "C" fn exit(frame: *mut InterpreterFrame, spills: *mut u64, map: *const ExitMap) -> usize {
    let map = &*map;
    if map.counted {
        (*map.guard_exits).fetch_add(1, Relaxed);
    }
    crate::stats::count_exit(map.reason);
    if let Some((counter, slot)) = map.backedges {
        // Rounded up so that tier 1's next back-edge offers the loop to tier 2 again at once
        // (the next call's loop, or this one after the exit), not after up to
        // `loop_threshold` more iterations in tier 1. (An exit that keeps happening is
        // counted and abandons the variant.)
        *(counter as *mut u64) = (*(counter as *mut u64) + *spills.add(slot as usize)) | super::osr_mask() as u64;
    }
    map.taken.store(map.taken.load(Relaxed) + 1, Relaxed);
    let py = pyo3::Python::assume_attached();
    let np = numpy::get(py);
    let layout = map.layout;
    // Locals first: stack values may refer to a local's object. All are boxed before any
    // old value is released, and the old values only after the stack is filled: a value may
    // be an object a replaced local held (min(x, y) is x).
    let boxed: Vec<(u32, *mut PyObject)> = map.locals.iter().map(|&(k, value)| (k, box_value(frame, spills, layout, value, np))).collect();
    let mut released = Vec::with_capacity(boxed.len());
    for (k, obj) in boxed {
        released.push(std::mem::replace(&mut *slot_ptr(frame, k), obj));
    }
    for (d, fill) in map.stack.iter().enumerate() {
        let d = d as u32;
        let slot = slot_ptr(frame, layout.nl + d);
        let read = |i: u32| *spills.add(layout.range(d, i) as usize) as i64;
        match *fill {
            SlotFill::Keep => {}
            SlotFill::RangeIterWriteback => range_iter_write(*slot, read(0), read(1), read(2)),
            SlotFill::SeqIterWriteback => seq_iter_write_index(*slot, read(0)),
            SlotFill::Value(value) => *slot = box_value(frame, spills, layout, value, np),
            SlotFill::IncRefLocal(k) => *slot = Py_NewRef(*slot_ptr(frame, k)),
            SlotFill::IncRef(obj) => *slot = Py_NewRef(obj as *mut PyObject),
            SlotFill::Null => *slot = std::ptr::null_mut(),
            SlotFill::NewRangeIter => *slot = check(range_iter_new(read(0), read(1), read(2))),
            SlotFill::NewRange => {
                let range = std::ptr::addr_of_mut!(PyRange_Type) as *mut PyObject;
                let args = (PyLong_FromLongLong(read(0)), PyLong_FromLongLong(read(1)), PyLong_FromLongLong(read(2)));
                *slot = check(PyObject_CallFunctionObjArgs(range, args.0, args.1, args.2, std::ptr::null_mut::<PyObject>()));
                Py_XDECREF(args.0);
                Py_XDECREF(args.1);
                Py_XDECREF(args.2);
            }
            SlotFill::Tuple(n, items) => {
                let tuple = check(PyTuple_New(n as isize));
                for (i, &(home, origin)) in items.iter().take(n as usize).enumerate() {
                    let item = box_value(frame, spills, layout, Value::I(home, origin), np);
                    PyTuple_SET_ITEM(tuple, i as isize, item);
                }
                *slot = tuple;
            }
        }
    }
    for old in released {
        Py_XDECREF(old);
    }
    map.resume
}

/// Boxing never fails in practice (small allocations); if it does, the state cannot be
/// handed back exactly, so stop rather than continue wrongly.
unsafe fn check(obj: *mut PyObject) -> *mut PyObject {
    if obj.is_null() {
        Py_FatalError(c"autojit: out of memory while leaving tier-2 code".as_ptr());
    }
    obj
}

unsafe fn read_home(spills: *mut u64, home: Home) -> u64 {
    match home {
        Home::Spill(s) => *spills.add(s as usize),
        Home::Imm(bits) => bits,
    }
}

unsafe fn box_value(frame: *mut InterpreterFrame, spills: *mut u64, layout: Layout, value: Value, np: Option<&numpy::Numpy>) -> *mut PyObject {
    // Doubles live in their slots' float views.
    let value = match value {
        Value::F(kind, Home::Spill(s), o) => Value::F(kind, Home::Spill(layout.float_view(s)), o),
        Value::N(NKind::F32, Home::Spill(s), o) => Value::N(NKind::F32, Home::Spill(layout.float_view(s)), o),
        other => other,
    };
    let origin = match value {
        Value::F(_, _, o) | Value::I(_, o) | Value::N(_, _, o) => Some(o),
        Value::B(..) => None,
    };
    match origin {
        Some(Origin::Const(obj)) => return Py_NewRef(obj as *mut PyObject),
        Some(Origin::Local(k)) => return Py_NewRef(*slot_ptr(frame, k)),
        // A null pointer: the value has no object yet (min/max chose a computed value).
        Some(Origin::Ptr(p)) if *spills.add(p as usize) != 0 => return Py_NewRef(*spills.add(p as usize) as *mut PyObject),
        _ => {}
    }
    match value {
        Value::F(FKind::Float, home, _) => check(PyFloat_FromDouble(f64::from_bits(read_home(spills, home)))),
        Value::F(FKind::NpF64, home, _) => {
            let np = np.expect("numpy values imply numpy");
            let obj = new_scalar(np.float64);
            *((obj as usize + numpy::SCALAR_VALUE) as *mut u64) = read_home(spills, home);
            obj
        }
        Value::N(kind, home, _) => {
            let np = np.expect("numpy values imply numpy");
            let bits = read_home(spills, home);
            let value = |obj: *mut PyObject| (obj as usize + numpy::SCALAR_VALUE) as *mut u8;
            match kind {
                NKind::I64 => {
                    let obj = new_scalar(np.int64);
                    *(value(obj) as *mut i64) = bits as i64;
                    obj
                }
                NKind::I32 => {
                    let obj = new_scalar(np.int32);
                    *(value(obj) as *mut i32) = bits as i64 as i32;
                    obj
                }
                NKind::F32 => {
                    let obj = new_scalar(np.float32);
                    *(value(obj) as *mut f32) = f64::from_bits(bits) as f32;
                    obj
                }
            }
        }
        Value::I(home, _) => check(PyLong_FromLongLong(read_home(spills, home) as i64)),
        Value::B(kind, home) => {
            let truth = read_home(spills, home) != 0;
            let obj = match (kind, truth) {
                (BKind::Bool, true) => Py_True(),
                (BKind::Bool, false) => Py_False(),
                (BKind::NpBool, true) => np.expect("numpy bools imply numpy").bool_true as *mut PyObject,
                (BKind::NpBool, false) => np.expect("numpy bools imply numpy").bool_false as *mut PyObject,
            };
            Py_NewRef(obj)
        }
    }
}

/// A new numpy scalar of type `ty` (its value still to be written).
unsafe fn new_scalar(ty: usize) -> *mut PyObject {
    let ty = ty as *mut PyTypeObject;
    let alloc = (*ty).tp_alloc.expect("numpy scalar types allocate");
    check(alloc(ty, 0))
}

/// The value of an exact int that fits in 64 bits; i64::MIN for anything else (the caller
/// exits then, also for i64::MIN itself). Never runs Python code.
pub unsafe extern "C" fn unbox_int(obj: *mut PyObject) -> i64 {
    if Py_TYPE(obj) != std::ptr::addr_of_mut!(PyLong_Type) {
        return i64::MIN;
    }
    let mut overflow = 0;
    let value = PyLong_AsLongLongAndOverflow(obj, &mut overflow);
    if overflow != 0 || (value == -1 && !PyErr_Occurred().is_null()) {
        PyErr_Clear();
        return i64::MIN;
    }
    value
}

/// A list, tuple or array iterator's end (its index reached the length), done as the
/// interpreter's FOR_ITER does it: the iterator lets go of its sequence and the frame's slot
/// of the iterator. Returns 0 without doing anything when that would free the sequence
/// (its destruction could run Python code, which tier-2 code never does): the loop then
/// exits and the interpreter ends it.
pub unsafe extern "C" fn finish_seq_iter(frame: *mut InterpreterFrame, index: u64) -> u64 {
    let iter = *slot_ptr(frame, index as u32);
    let seq_field = (iter as usize + SEQ_ITER_SEQ) as *mut *mut PyObject;
    let seq = *seq_field;
    if !seq.is_null() && Py_REFCNT(seq) == 1 {
        return 0;
    }
    *seq_field = std::ptr::null_mut();
    Py_XDECREF(seq);
    // Only the iterator's own memory can go now (its sequence is detached).
    Py_DECREF(iter);
    1
}

/// Drop the object a frame stack slot holds (a finished loop's iterator).
pub unsafe extern "C" fn release_slot(frame: *mut InterpreterFrame, index: u64) {
    Py_DECREF(*slot_ptr(frame, index as u32));
}

/// The number of values `range(start, stop, step)` yields, as CPython computes it; -1 when
/// it does not fit a C long (CPython would make a different, slower iterator).
pub unsafe extern "C" fn range_len(start: i64, stop: i64, step: i64) -> i64 {
    // The distance between two i64 values fits a u64 (no 128-bit division on this path:
    // loops run it once per inner loop).
    let len: u64 = if step > 0 && start < stop {
        (stop.wrapping_sub(start) as u64 - 1) / step as u64 + 1
    } else if step < 0 && start > stop {
        (start.wrapping_sub(stop) as u64 - 1) / step.unsigned_abs() + 1
    } else {
        0
    };
    if len > i64::MAX as u64 {
        -1
    } else {
        len as i64
    }
}

#[cfg(test)]
mod range_len_tests {
    /// Against Python's len(range(...)) for edge cases (values from Python).
    #[test]
    fn lengths_match_python() {
        let cases: [(i64, i64, i64, i64); 9] = [
            (0, 10, 1, 10),
            (0, 10, 3, 4),
            (10, 0, -3, 4),
            (5, 5, 1, 0),
            (5, 0, 1, 0),
            (i64::MIN, i64::MAX, 1, -1),
            (i64::MIN, i64::MAX, 2, -1),
            (i64::MAX, i64::MIN, i64::MIN, 2),
            (-3, 3, i64::MAX, 1),
        ];
        for (start, stop, step, len) in cases {
            assert_eq!(unsafe { super::range_len(start, stop, step) }, len, "range({start}, {stop}, {step})");
        }
    }
}

// --- range iterator objects: their private layout differs by version, checked at first use.

#[cfg(autojit_py312)]
mod range_layout {
    // { PyObject_HEAD; long start; long step; long len; }: start is the next value.
    pub unsafe fn read(obj: *mut pyo3_ffi::PyObject) -> (i64, i64, i64) {
        let f = obj as *const i64;
        (*f.add(2), *f.add(3), *f.add(4))
    }
    pub unsafe fn write(obj: *mut pyo3_ffi::PyObject, next: i64, step: i64, remaining: i64) {
        let f = obj as *mut i64;
        *f.add(2) = next;
        *f.add(3) = step;
        *f.add(4) = remaining;
    }
}

#[cfg(autojit_py311)]
mod range_layout {
    // { PyObject_HEAD; long index; long start; long step; long len; }: the next value is
    // start + index * step.
    pub unsafe fn read(obj: *mut pyo3_ffi::PyObject) -> (i64, i64, i64) {
        let f = obj as *const i64;
        let (index, start, step, len) = (*f.add(2), *f.add(3), *f.add(4), *f.add(5));
        (start.wrapping_add(index.wrapping_mul(step)), step, len - index)
    }
    pub unsafe fn write(obj: *mut pyo3_ffi::PyObject, next: i64, step: i64, remaining: i64) {
        let f = obj as *mut i64;
        *f.add(2) = 0;
        *f.add(3) = next;
        *f.add(4) = step;
        *f.add(5) = remaining;
    }
}

pub unsafe fn range_iter_read(obj: *mut PyObject) -> (i64, i64, i64) {
    range_layout::read(obj)
}

unsafe fn range_iter_write(obj: *mut PyObject, next: i64, step: i64, remaining: i64) {
    range_layout::write(obj, next, step, remaining)
}

/// A new range iterator with the given counters.
unsafe fn range_iter_new(next: i64, step: i64, remaining: i64) -> *mut PyObject {
    let range = PyObject_CallFunction(std::ptr::addr_of_mut!(PyRange_Type) as *mut PyObject, c"i".as_ptr(), 0);
    if range.is_null() {
        return range;
    }
    let iter = PyObject_GetIter(range);
    Py_DECREF(range);
    if !iter.is_null() {
        range_iter_write(iter, next, step, remaining);
    }
    iter
}

/// The range iterator layout this build assumes matches the running interpreter.
/// `listiterobject`, `tupleiterobject` and `seqiterobject` share a layout after the
/// object header: `Py_ssize_t it_index; PyObject *it_seq` (3.11 and 3.12).
const SEQ_ITER_INDEX: usize = 16;
const SEQ_ITER_SEQ: usize = 24;

/// A sequence iterator's (index, sequence).
pub unsafe fn seq_iter_read(iter: *mut PyObject) -> (isize, *mut PyObject) {
    (*((iter as usize + SEQ_ITER_INDEX) as *const isize), *((iter as usize + SEQ_ITER_SEQ) as *const *mut PyObject))
}

unsafe fn seq_iter_write_index(iter: *mut PyObject, index: i64) {
    *((iter as usize + SEQ_ITER_INDEX) as *mut isize) = index as isize;
}

/// The iterator layout above, checked once on real iterators of each kind.
pub fn seq_iter_layout_ok() -> bool {
    static OK: OnceCell<bool> = OnceCell::new();
    *OK.get_or_init(|| unsafe {
        let list = PyList_New(0);
        let tuple = PyTuple_New(0);
        let mut ok = !list.is_null() && !tuple.is_null();
        for seq in [list, tuple] {
            if !ok {
                break;
            }
            let iter = PyObject_GetIter(seq);
            if iter.is_null() {
                ok = false;
                break;
            }
            ok = seq_iter_read(iter) == (0, seq);
            Py_DECREF(iter);
        }
        if ok {
            // A sequence iterator (over an object with __getitem__ only: a str subclass would
            // iterate natively, so build one with PySeqIter_New).
            let iter = PySeqIter_New(list);
            ok = !iter.is_null() && seq_iter_read(iter) == (0, list);
            Py_XDECREF(iter);
        }
        Py_XDECREF(list);
        Py_XDECREF(tuple);
        PyErr_Clear();
        ok
    })
}

pub fn range_iter_layout_ok() -> bool {
    static OK: OnceCell<bool> = OnceCell::new();
    *OK.get_or_init(|| unsafe {
        let range = PyObject_CallFunction(std::ptr::addr_of_mut!(PyRange_Type) as *mut PyObject, c"iii".as_ptr(), 5, 100, 3);
        if range.is_null() {
            PyErr_Clear();
            return false;
        }
        let iter = PyObject_GetIter(range);
        Py_DECREF(range);
        if iter.is_null() {
            PyErr_Clear();
            return false;
        }
        let first = PyIter_Next(iter);
        Py_XDECREF(first);
        let ok = range_iter_read(iter) == (8, 3, 31);
        Py_DECREF(iter);
        ok
    })
}

/// Entry check: 1 if any pair of arrays in `map.disjoint` may share memory (then the code
/// exits at once: its remembered elements assume they do not), else 0. Conservative: the
/// bytes an array's elements can span, each element taken as 8 bytes wide.
pub unsafe extern "C" fn arrays_overlap(frame: *mut InterpreterFrame, map: *const EntryMap) -> u64 {
    let map = &*map;
    for &(a, b) in &map.disjoint {
        if let (Some(x), Some(y)) = (array_span(*slot_ptr(frame, a)), array_span(*slot_ptr(frame, b))) {
            if x.0 < y.1 && y.0 < x.1 {
                return 1;
            }
        }
    }
    0
}

/// The byte range [low, high) an ndarray's elements lie in (None if it has none).
unsafe fn array_span(array: *mut PyObject) -> Option<(usize, usize)> {
    use super::numpy::{ARRAY_DATA, ARRAY_DIMS, ARRAY_ND, ARRAY_STRIDES};
    let field = |off: i32| (array as usize + off as usize) as *const usize;
    let data = *field(ARRAY_DATA) as i128;
    let nd = *(field(ARRAY_ND) as *const i32);
    let dims = *field(ARRAY_DIMS) as *const isize;
    let strides = *field(ARRAY_STRIDES) as *const isize;
    let (mut low, mut high) = (data, data + 8);
    for axis in 0..nd.max(0) as usize {
        let dim = *dims.add(axis) as i128;
        if dim <= 0 {
            return None;
        }
        let reach = (dim - 1) * *strides.add(axis) as i128;
        if reach < 0 {
            low += reach;
        } else {
            high += reach;
        }
    }
    Some((low.max(0) as usize, high.max(0) as usize))
}
