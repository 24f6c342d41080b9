//! The tier-2 loop compiler: abstract interpretation and code generation in one pass, by
//! basic-block versioning over the loop's instructions.

use super::exits::{self, EntryMap, ExitMap, Layout, SlotFill, Value};
use super::numpy::Dtype;
use super::state::*;
use super::LoopCode;

/// Versions of one block (different abstract states reaching it) before further states exit.
const MAX_BLOCK_VERSIONS: usize = 8;

/// The pow shortcuts' margins (see `prove_candidate`): the exact result lies within this many
/// ulps of the candidate, with |result| within 2^+-128 (narrow) or 2^+-800 (wide).
const NARROW_MARGIN: f64 = 0.4795;
const WIDE_MARGIN: f64 = 0.45;
use crate::backend::{Arg, Assembler, Cond, FOp, FReg, IOp, Label, Reg};
use crate::bytecode::{Bytecode, Flow, Op};
use crate::cpython::{self, InterpreterFrame};
use crate::tier1::Compiled;
use pyo3::prelude::*;
use pyo3_ffi::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU32;

extern "C" {
    /// The C library's pow, the one CPython and numpy call.
    fn pow(x: f64, y: f64) -> f64;
}

/// The C library functions CPython's math module calls.
mod libm {
    extern "C" {
        pub fn sqrt(x: f64) -> f64;
        pub fn exp(x: f64) -> f64;
        pub fn log(x: f64) -> f64;
        pub fn sin(x: f64) -> f64;
        pub fn cos(x: f64) -> f64;
        pub fn tan(x: f64) -> f64;
        pub fn atan(x: f64) -> f64;
        pub fn tanh(x: f64) -> f64;
        pub fn fabs(x: f64) -> f64;
        pub fn asin(x: f64) -> f64;
        pub fn acos(x: f64) -> f64;
        pub fn asinh(x: f64) -> f64;
        pub fn acosh(x: f64) -> f64;
        pub fn atanh(x: f64) -> f64;
        pub fn sinh(x: f64) -> f64;
        pub fn cosh(x: f64) -> f64;
        pub fn log2(x: f64) -> f64;
        pub fn log10(x: f64) -> f64;
        pub fn floor(x: f64) -> f64;
        pub fn ceil(x: f64) -> f64;
        pub fn trunc(x: f64) -> f64;
    }
}

/// What compiling one instruction did.
enum Step {
    /// Continue with the next instruction.
    Next,
    /// Control was transferred (jump, exit); the run ends.
    Done,
}

struct Compiler<'a> {
    asm: Assembler,
    bc: &'a Bytecode,
    tier1: &'a Compiled,
    layout: Layout,
    /// Positions (in `bc.instrs`) making up the loop.
    region: std::ops::RangeInclusive<usize>,
    /// Positions some jump lands on: a run stops there to share block versions.
    targets: HashSet<usize>,
    versions: HashMap<usize, Vec<(State, Label)>>,
    work: Vec<(usize, State, Label)>,
    exits: Vec<(Label, ExitMap)>,
    consts: Vec<*mut PyObject>,
    names: Vec<*mut PyObject>,
    frame: *mut InterpreterFrame,
    assumptions: Vec<super::Assumption>,
    uses_numpy: bool,
    guard_exits: *const AtomicU32,
    eval_breaker: usize,
    /// Set when an exit could not be given a tier-1 address: the compilation is refused.
    broken: bool,
    /// Address of the code state's back-edge counter (0: none), counted as in tier 1.
    backedges: usize,
    /// Position being compiled (for use weights).
    current: usize,
    /// Loop nesting weight of each position (10 per level).
    weights: Vec<u64>,
    /// Array, list and tuple facts read at entry.
    cached: Vec<Cached>,
    /// Stack depths holding loaded doubles not yet checked to be finite (see
    /// `passes_unchecked`), and whether the instruction being compiled left one.
    unchecked: Vec<u32>,
    loaded_unchecked: bool,
    /// The last slot store: (code offset after it, slot, register stored). A load of the
    /// same slot into the same register right after it (no label between) is left out.
    just_stored: Option<(usize, u32, Stored)>,
    /// Paths laid out after the code (a range loop's end).
    cold: Vec<ColdPath>,
    /// The array elements states may remember (`State::memos` indexes this), in the order
    /// first met: the same in both passes.
    memo_keys: Vec<MemoKey>,
    /// Array locals stored into, and those checked at entry not to share memory with any
    /// other array local (a store into one leaves other arrays' elements remembered).
    stored_arrays: Vec<u32>,
    disjoint_stores: Vec<u32>,
    /// Spill slots living in registers.
    map: SlotMap,
    /// Weighted uses of each slot as (double, integer), for choosing the map.
    usage: HashMap<u32, (u64, u64)>,
}

/// A path laid out after the code: optionally drop the object in a frame slot (a finished
/// loop's iterator), then continue at `then`.
struct ColdPath {
    label: Label,
    release: Option<u32>,
    then: Label,
}

/// The register a slot store wrote from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stored {
    I(Reg),
    F(FReg),
}

/// Which spill slots live in which home registers for a whole unit.
#[derive(Default, Clone)]
struct SlotMap {
    floats: HashMap<u32, u8>,
    ints: HashMap<u32, u8>,
}

impl SlotMap {
    /// Give the most used slots registers: slots used only as doubles get xmm homes, slots
    /// used only as integers get integer homes.
    fn choose(usage: &HashMap<u32, (u64, u64)>) -> SlotMap {
        let mut floats: Vec<(u64, u32)> = usage.iter().filter(|(_, u)| u.1 == 0).map(|(s, u)| (u.0, *s)).collect();
        let mut ints: Vec<(u64, u32)> = usage.iter().filter(|(_, u)| u.0 == 0).map(|(s, u)| (u.1, *s)).collect();
        floats.sort_by(|a, b| b.cmp(a));
        ints.sort_by(|a, b| b.cmp(a));
        SlotMap {
            floats: floats.iter().take(crate::backend::F_HOMES as usize).enumerate().map(|(i, (_, s))| (*s, i as u8)).collect(),
            ints: ints.iter().take(crate::backend::I_HOMES as usize).enumerate().map(|(i, (_, s))| (*s, i as u8)).collect(),
        }
    }
}

pub fn compile_loop(
    py: Python<'_>,
    frame: *mut InterpreterFrame,
    code: *mut PyObject,
    tier1: &Compiled,
    header: usize,
    depth: u32,
    key: EntryKey,
) -> Result<LoopCode, String> {
    let started = std::time::Instant::now();
    let bytes = unsafe { cpython::code_bytes(code) }.ok_or("no bytecode")?;
    let bc = Bytecode::decode(&bytes);
    let header_pos = bc.position(header).ok_or("header is not an instruction")?;
    let back_edge = (header_pos..bc.instrs.len())
        .filter(|&p| back_edge_target(&bc.instrs[p]) == Some(header))
        .max()
        .ok_or("no back-edge to the header")?;
    // Compile the outermost loop around the header, entered at the header: an inner loop's
    // end then continues in tier 2 instead of returning to tier 1 for every outer iteration.
    let (mut first, mut last) = (header_pos, back_edge);
    for (p, instr) in bc.instrs.iter().enumerate() {
        if let Some(t) = back_edge_target(instr) {
            if let Some(tp) = bc.position(t) {
                if tp <= first && p >= last {
                    (first, last) = (tp, p);
                }
            }
        }
    }
    let region = first..=last;
    let mut targets = HashSet::new();
    for p in region.clone() {
        if let Flow::Branch(t) | Flow::Jump(t) = bc.instrs[p].flow() {
            if let Some(tp) = bc.position(t) {
                targets.insert(tp);
            }
        }
    }
    let (nl, ss, consts, names) = unsafe {
        let base = code as *const u8;
        (
            *cpython::field::<i32>(base, cpython::CODE_CO_NLOCALSPLUS) as u32,
            *cpython::field::<i32>(base, cpython::CODE_CO_STACKSIZE) as u32,
            tuple_items(*cpython::field::<*mut PyObject>(base, cpython::CODE_CO_CONSTS)),
            tuple_items(*cpython::field::<*mut PyObject>(base, cpython::CODE_CO_NAMES)),
        )
    };
    if key.len() != (nl + depth) as usize {
        return Err("entry key does not match the frame".into());
    }
    let cached = cache_plan(&key, nl);
    // Cache slots, then the back-edge counter.
    let layout = Layout { nl, ss: ss + 1, cached: cached.iter().map(|c| c.slots()).sum::<u32>() + 1 };

    // The entry state, from the observed types.
    let mut entry_map = EntryMap { layout, disjoint: vec![], floats: vec![], ints: vec![], scalars: vec![], range_iters: vec![], seq_iters: vec![] };
    let mut locals = Vec::new();
    for (k, ty) in key[..nl as usize].iter().enumerate() {
        let k = k as u32;
        locals.push(match ty {
            EntryTy::Null => Local::Null,
            EntryTy::Float => {
                entry_map.floats.push((k, FKind::Float));
                Local::F(FKind::Float, Origin::Entry)
            }
            EntryTy::NpF64 => {
                entry_map.floats.push((k, FKind::NpF64));
                Local::F(FKind::NpF64, Origin::Entry)
            }
            EntryTy::Int => {
                entry_map.ints.push(k);
                Local::I(Origin::Entry)
            }
            EntryTy::Bool => {
                // True and False unbox as ints (1 and 0).
                entry_map.ints.push(k);
                Local::B(BKind::Bool)
            }
            EntryTy::NpScalar(kind) => {
                entry_map.scalars.push((k, *kind));
                Local::N(*kind, Origin::Entry)
            }
            other => Local::Obj(*other),
        });
    }
    let mut stack = Vec::new();
    for (d, ty) in key[nl as usize..].iter().enumerate() {
        stack.push(match *ty {
            EntryTy::RangeIter { unit_step } => {
                entry_map.range_iters.push(d as u32);
                Slot::RangeIter { real: true, unit_step }
            }
            EntryTy::SeqIter(kind) => {
                entry_map.seq_iters.push(d as u32);
                Slot::SeqIter(kind)
            }
            _ => Slot::EntryObj,
        });
    }
    let uses_numpy = key.iter().any(|t| matches!(t, EntryTy::NpF64 | EntryTy::NpScalar(_) | EntryTy::Array { .. }));
    let entry_state = State { locals, stack, memos: Vec::new() };
    let mut entry_map = Box::new(entry_map);
    let guard_exits = Box::new(AtomicU32::new(0));

    // Loop nesting weights: code in an inner loop counts ten times per level.
    let mut weights = vec![1u64; bc.instrs.len()];
    for (p, instr) in bc.instrs.iter().enumerate() {
        if let Some(tp) = back_edge_target(instr).and_then(|t| bc.position(t)) {
            for w in weights.iter_mut().take(p + 1).skip(tp) {
                *w = w.saturating_mul(10);
            }
        }
    }
    // Two passes: the first learns which slots are used most, the second keeps those in
    // registers.
    let first_pass = compile_pass(&bc, tier1, layout, region.clone(), targets.clone(), &consts, &names, frame, uses_numpy,
        &guard_exits, header_pos, entry_state.clone(), &entry_map, &weights, &cached, SlotMap::default(), &[])?;
    // Arrays the loop stores into: checked at entry not to share memory with the other
    // array locals, the second pass keeps other arrays' remembered elements across them.
    let arrays: Vec<u32> = key[..nl as usize]
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t, EntryTy::Array { .. }))
        .map(|(k, _)| k as u32)
        .collect();
    for &stored in &first_pass.stored_arrays {
        for &other in arrays.iter().filter(|&&k| k != stored) {
            entry_map.disjoint.push((stored, other));
        }
    }
    let disjoint_stores = if entry_map.disjoint.is_empty() { Vec::new() } else { first_pass.stored_arrays.clone() };
    let map = if super::REGISTER_HOMES.load(std::sync::atomic::Ordering::Relaxed) {
        SlotMap::choose(&first_pass.usage)
    } else {
        SlotMap::default()
    };
    let pass = compile_pass(&bc, tier1, layout, region, targets, &consts, &names, frame, uses_numpy,
        &guard_exits, header_pos, entry_state, &entry_map, &weights, &cached, map, &disjoint_stores)?;
    let _ = py;
    if let Ok(dir) = std::env::var("AUTOJIT_DUMP_DIR") {
        // Debugging aid: the machine code, for `objdump -D -b binary -mi386:x86-64`.
        let _ = std::fs::write(format!("{dir}/tier2-{header}-{}.bin", std::process::id()), &pass.machine_code);
    }
    let block = crate::codemem::CodeBlock::new(&pass.machine_code).ok_or("executable memory refused")?;
    Ok(LoopCode {
        header,
        key,
        block,
        assumptions: pass.assumptions,
        uses_numpy: pass.uses_numpy,
        // The exit maps point at this boxed counter.
        guard_exits,
        exit_maps: pass.exit_maps,
        entry_map,
        compile_ns: started.elapsed().as_nanos() as u64,
        type_names: Vec::new(),
        compiled_at_backedges: 0,
        entries: Default::default(),
    })
}

/// Facts about an array, list or tuple that cannot change while tier-2 code runs: it runs
/// no Python code (anything that could is an exit) and never rebinds such a local or
/// replaces an iterator's sequence, so nothing can reshape, resize or replace the object
/// until the next exit. They are read once at entry into cache slots, starting at `first`.
#[derive(Clone, Copy)]
struct Cached {
    /// The frame slot (local, or stack position after the locals) holding the object, or
    /// (`through_iter`) the iterator whose sequence it is.
    slot: u32,
    through_iter: bool,
    ty: EntryTy,
    first: u32,
}

impl Cached {
    /// Arrays: data pointer, then each dimension, then each stride. Lists and tuples: size
    /// and the address of the first item pointer.
    fn slots(&self) -> u32 {
        match self.ty {
            EntryTy::Array { ndim, .. } => 1 + 2 * ndim as u32,
            _ => 2,
        }
    }
    fn data(&self) -> u32 {
        self.first
    }
    fn dim(&self, axis: u32) -> u32 {
        self.first + 1 + axis
    }
    fn stride(&self, axis: u32) -> u32 {
        match self.ty {
            EntryTy::Array { ndim, .. } => self.first + 1 + ndim as u32 + axis,
            _ => unreachable!("only arrays have strides"),
        }
    }
    fn size(&self) -> u32 {
        debug_assert!(!matches!(self.ty, EntryTy::Array { .. }), "an array's length is dim(0)");
        self.first
    }
    fn items(&self) -> u32 {
        self.first + 1
    }
}

/// Cache slots for every array, list and tuple local, and for the sequence of every list,
/// tuple and array iterator on the stack.
fn cache_plan(key: &[EntryTy], nl: u32) -> Vec<Cached> {
    let mut out = Vec::new();
    let mut next = 0;
    for (k, ty) in key.iter().enumerate() {
        let (ty, through_iter) = match *ty {
            EntryTy::Array { .. } | EntryTy::List | EntryTy::Tuple if (k as u32) < nl => (*ty, false),
            EntryTy::SeqIter(SeqKind::List) => (EntryTy::List, true),
            EntryTy::SeqIter(SeqKind::Tuple) => (EntryTy::Tuple, true),
            EntryTy::SeqIter(SeqKind::Array(dtype)) => (EntryTy::Array { ndim: 1, writeable: false, dtype }, true),
            _ => continue,
        };
        let c = Cached { slot: k as u32, through_iter, ty, first: next };
        next += c.slots();
        out.push(c);
    }
    out
}

struct Pass {
    machine_code: Vec<u8>,
    exit_maps: Vec<Box<ExitMap>>,
    assumptions: Vec<super::Assumption>,
    uses_numpy: bool,
    usage: HashMap<u32, (u64, u64)>,
    /// Array locals the code stores into.
    stored_arrays: Vec<u32>,
}

#[allow(clippy::too_many_arguments)]
fn compile_pass(
    bc: &Bytecode,
    tier1: &Compiled,
    layout: Layout,
    region: std::ops::RangeInclusive<usize>,
    targets: HashSet<usize>,
    consts: &[*mut PyObject],
    names: &[*mut PyObject],
    frame: *mut InterpreterFrame,
    uses_numpy: bool,
    guard_exits: &AtomicU32,
    header_pos: usize,
    entry_state: State,
    entry_map: &EntryMap,
    weights: &[u64],
    cached: &[Cached],
    map: SlotMap,
    disjoint_stores: &[u32],
) -> Result<Pass, String> {
    let mut c = Compiler {
        asm: Assembler::new(cpython::FRAME_LOCALSPLUS, cpython::REFCOUNTS, cpython::ffi::_Py_Dealloc as usize),
        bc,
        tier1,
        layout,
        region,
        targets,
        versions: HashMap::new(),
        work: Vec::new(),
        exits: Vec::new(),
        consts: consts.to_vec(),
        names: names.to_vec(),
        frame,
        assumptions: Vec::new(),
        uses_numpy,
        guard_exits: guard_exits as *const AtomicU32,
        eval_breaker: crate::hook::eval_breaker_address(),
        broken: false,
        backedges: unsafe {
            let state = crate::codestate::get(frame_code_of(frame));
            if state.is_null() {
                0
            } else {
                std::ptr::addr_of_mut!((*state).backedges) as usize
            }
        },
        current: header_pos,
        weights: weights.to_vec(),
        cached: cached.to_vec(),
        unchecked: Vec::new(),
        loaded_unchecked: false,
        just_stored: None,
        cold: Vec::new(),
        memo_keys: Vec::new(),
        stored_arrays: Vec::new(),
        disjoint_stores: disjoint_stores.to_vec(),
        map,
        usage: HashMap::new(),
    };

    // Entry from tier 1: make the spill area, unbox, go to the header's version.
    let spill_bytes = 8 * layout.slots() as i32;
    c.asm.reserve_spill(spill_bytes);
    c.asm.call(exits::enter as usize, &[Arg::Frame, Arg::SpillBase, Arg::Imm(entry_map as *const EntryMap as u64)]);
    c.reload(true);
    c.read_cached_facts();
    if !c.disjoint_stores.is_empty() {
        c.flush(false);
        c.asm.call(exits::arrays_overlap as usize, &[Arg::Frame, Arg::Imm(entry_map as *const EntryMap as u64)]);
        c.reload(false);
        let overlap = c.exit(header_pos, &entry_state, true, "array_overlap");
        c.asm.jump_if_nonzero(Reg::R0, overlap);
    }
    let first = c.version(header_pos, entry_state);
    c.asm.jump(first);
    while let Some((pos, state, label)) = c.work.pop() {
        c.asm.bind(label);
        c.run(pos, state)?;
    }
    // Rarely taken paths, out of the loops' way.
    for cold in std::mem::take(&mut c.cold) {
        c.asm.bind(cold.label);
        if let Some(slot) = cold.release {
            c.flush(false);
            c.asm.call(exits::release_slot as usize, &[Arg::Frame, Arg::Imm(slot as u64)]);
            c.reload(false);
        }
        c.asm.jump(cold.then);
    }
    // Exit stubs: box everything back, leave the spill area, continue in tier 1.
    let mut exit_maps = Vec::new();
    for (label, map) in std::mem::take(&mut c.exits) {
        let map = Box::new(map);
        c.asm.bind(label);
        c.flush(true);
        c.asm.call(exits::exit as usize, &[Arg::Frame, Arg::SpillBase, Arg::Imm(&*map as *const ExitMap as u64)]);
        c.asm.release_spill(spill_bytes);
        c.asm.jump_reg(Reg::R0);
        exit_maps.push(map);
    }
    if c.broken {
        return Err("an exit has no tier-1 instruction to continue at".into());
    }
    Ok(Pass {
        assumptions: std::mem::take(&mut c.assumptions),
        uses_numpy: c.uses_numpy,
        usage: std::mem::take(&mut c.usage),
        stored_arrays: std::mem::take(&mut c.stored_arrays),
        machine_code: c.asm.finish()?,
        exit_maps,
    })
}

/// The loop header a back-edge jumps to: JUMP_BACKWARD, or 3.11's backward conditional
/// jumps (its `while` loops).
fn back_edge_target(instr: &crate::bytecode::Instr) -> Option<usize> {
    match (instr.op, instr.flow()) {
        (Op::JUMP_BACKWARD, Flow::Jump(t)) => Some(t),
        (
            Op::POP_JUMP_BACKWARD_IF_FALSE
            | Op::POP_JUMP_BACKWARD_IF_TRUE
            | Op::POP_JUMP_BACKWARD_IF_NONE
            | Op::POP_JUMP_BACKWARD_IF_NOT_NONE,
            Flow::Branch(t),
        ) => Some(t),
        _ => None,
    }
}

unsafe fn frame_code_of(frame: *mut InterpreterFrame) -> *mut PyObject {
    cpython::frame_code(frame)
}

unsafe fn tuple_items(tuple: *mut PyObject) -> Vec<*mut PyObject> {
    if tuple.is_null() {
        return Vec::new();
    }
    (0..PyTuple_Size(tuple)).map(|i| PyTuple_GetItem(tuple, i)).collect()
}

impl<'a> Compiler<'a> {
    /// The label of the block version for (`pos`, `state`), queued for compilation if new;
    /// an exit when the position has too many versions or lies outside the loop.
    fn version(&mut self, pos: usize, state: State) -> Label {
        if !self.region.contains(&pos) {
            return self.exit(pos, &state, false, "loop_exit");
        }
        let versions = self.versions.entry(pos).or_default();
        if let Some((_, label)) = versions.iter().find(|(s, _)| *s == state) {
            return *label;
        }
        if versions.len() >= MAX_BLOCK_VERSIONS {
            return self.exit(pos, &state, true, "too_many_versions");
        }
        let label = self.asm.new_label();
        versions.push((state.clone(), label));
        self.work.push((pos, state, label));
        label
    }

    /// An exit to tier 1 at the instruction at `pos`, with the frame made to match `state`.
    fn exit(&mut self, pos: usize, state: &State, counted: bool, reason: &'static str) -> Label {
        let start = self.bc.instrs.get(pos).map(|i| i.start);
        let site = self.bc.instrs.get(pos).map(|i| (i.start, i.op.name())).unwrap_or((0, "?"));
        let resume = start.and_then(|s| self.tier1.address_of(s)).unwrap_or(0);
        let mut locals = Vec::new();
        for (k, local) in state.locals.iter().enumerate() {
            let k = k as u32;
            let home = Home::Spill(self.layout.local(k));
            match *local {
                Local::F(kind, origin) if origin != Origin::Entry => locals.push((k, Value::F(kind, home, origin))),
                Local::I(origin) if origin != Origin::Entry => locals.push((k, Value::I(home, origin))),
                Local::N(kind, origin) if origin != Origin::Entry => locals.push((k, Value::N(kind, home, origin))),
                Local::B(kind) => locals.push((k, Value::B(kind, home))),
                _ => {}
            }
        }
        let stack = state
            .stack
            .iter()
            .map(|slot| match *slot {
                Slot::F(kind, home, origin) => SlotFill::Value(Value::F(kind, home, origin)),
                Slot::I(home, origin) => SlotFill::Value(Value::I(home, origin)),
                Slot::N(kind, home, origin) => SlotFill::Value(Value::N(kind, home, origin)),
                Slot::B(kind, home) => SlotFill::Value(Value::B(kind, home)),
                Slot::LocalObj(k, _) => SlotFill::IncRefLocal(k),
                Slot::Builtin(obj, _) | Slot::ConstObj(obj) => SlotFill::IncRef(obj),
                Slot::Null => SlotFill::Null,
                Slot::EntryObj => SlotFill::Keep,
                Slot::RangeIter { real: true, .. } => SlotFill::RangeIterWriteback,
                Slot::SeqIter(_) => SlotFill::SeqIterWriteback,
                Slot::RangeIter { real: false, .. } => SlotFill::NewRangeIter,
                Slot::Range { .. } => SlotFill::NewRange,
                Slot::Tuple(n, items) => SlotFill::Tuple(n, items),
            })
            .collect();
        let label = self.asm.new_label();
        let map = ExitMap {
            resume,
            counted,
            layout: self.layout,
            locals,
            stack,
            guard_exits: self.guard_exits,
            reason,
            site,
            taken: Default::default(),
            backedges: (self.backedges != 0).then(|| (self.backedges, self.backedge_slot())),
        };
        if resume == 0 {
            // No tier-1 code to continue in: refuse the whole compilation.
            self.broken = true;
        }
        self.exits.push((label, map));
        label
    }

    /// Compile from `pos` in `state` until control leaves the straight line.
    fn run(&mut self, mut pos: usize, mut state: State) -> Result<(), String> {
        self.unchecked.clear();
        loop {
            let instr = &self.bc.instrs[pos];
            if !self.passes_unchecked(instr, &state) {
                self.check_unchecked(pos, &state);
            }
            let before = state.clone();
            self.current = pos;
            let depth = Self::depth(&state);
            self.loaded_unchecked = false;
            match self.gen(pos, &mut state) {
                Some(Step::Done) => return Ok(()),
                Some(Step::Next) => {
                    self.track_unchecked(instr, depth, &state);
                    self.forget_memos(instr, &before, &mut state);
                    pos += 1;
                    if !self.region.contains(&pos) || self.targets.contains(&pos) {
                        // Block versions hold finite doubles only.
                        self.check_unchecked(pos, &state);
                        let label = self.version(pos, state);
                        self.asm.jump(label);
                        return Ok(());
                    }
                }
                None => {
                    // Not compiled here: continue in tier 1 at this instruction.
                    let _ = instr;
                    let label = self.exit(pos, &before, true, "unsupported");
                    self.asm.jump(label);
                    return Ok(());
                }
            }
        }
    }

    // --- doubles loaded but not yet known to be finite ------------------------------------
    //
    // Unboxed doubles are finite: comparisons, min/max, conversions and stores rely on it, and
    // an arithmetic result that is not finite exits before the operation (numpy warns there,
    // and CPython's float ** raises). A NaN or infinity read from an array or a list is no
    // error, though, just a value tier 2 leaves to the interpreter; and `+`, `-` and `*` turn a
    // non-finite operand into a non-finite result, which their own check catches. So a loaded
    // double is checked only when something other than these operations is about to use it
    // (or the block ends): most loads in arithmetic need no check of their own.

    /// Whether `instr` may run with unchecked doubles on the stack: loads and pushes, and
    /// `+ - *` on doubles (whose result check covers their operands).
    fn passes_unchecked(&self, instr: &crate::bytecode::Instr, state: &State) -> bool {
        match instr.op {
            Op::LOAD_FAST | Op::LOAD_FAST_CHECK | Op::LOAD_CONST | Op::NOP | Op::BINARY_SUBSCR | Op::BUILD_TUPLE => true,
            Op::BINARY_OP => {
                let d = state.stack.len();
                let float = |s: &Slot| matches!(s, Slot::F(..));
                matches!(instr.arg, 0 | 13 | 10 | 23 | 5 | 18)
                    && d >= 2
                    && (float(&state.stack[d - 2]) || float(&state.stack[d - 1]))
                    && !state.stack[d - 2..].iter().any(|s| matches!(s, Slot::N(..)))
            }
            _ => false,
        }
    }

    /// After an instruction that passed: its operands are covered, and a double it loaded is
    /// unchecked.
    fn track_unchecked(&mut self, instr: &crate::bytecode::Instr, depth: u32, state: &State) {
        match instr.op {
            Op::BINARY_OP => {
                self.unchecked.retain(|&d| d + 2 < depth);
                if self.loaded_unchecked {
                    self.unchecked.push(depth - 2);
                }
            }
            Op::BUILD_TUPLE => self.unchecked.retain(|&d| d + instr.arg < depth),
            Op::BINARY_SUBSCR => {
                self.unchecked.retain(|&d| d + 2 < depth);
                if self.loaded_unchecked {
                    self.unchecked.push(depth - 2);
                }
            }
            _ => {}
        }
        self.loaded_unchecked = false;
        debug_assert!(self.unchecked.iter().all(|&d| (d as usize) < state.stack.len()));
    }

    /// Exit at `pos` (the state there holds the values as they are) for any unchecked double
    /// that is not finite.
    fn check_unchecked(&mut self, pos: usize, state: &State) {
        if self.unchecked.is_empty() {
            return;
        }
        let exit = self.exit(pos, state, true, "nonfinite_value");
        for d in std::mem::take(&mut self.unchecked) {
            let slot = state.stack[d as usize];
            if self.load_f(FReg::F0, &slot).is_some() {
                self.asm.jump_if_f_nonfinite(FReg::F0, exit);
            }
        }
    }

    // --- array elements remembered (State::memos) -----------------------------------------

    /// The memo index for the element of array local `k` at `indices` (constants and locals
    /// only), allocated on first use; None when the index lives elsewhere or no memo is left.
    fn memo_key(&mut self, k: u32, indices: &[Home]) -> Option<u8> {
        let mut index = [None; 3];
        for (axis, home) in indices.iter().enumerate() {
            match *home {
                Home::Spill(s) if s < self.layout.nl => {}
                Home::Imm(_) => {}
                _ => return None,
            }
            index[axis] = Some(*home);
        }
        let key = MemoKey { array: k, index };
        if let Some(m) = self.memo_keys.iter().position(|&m| m == key) {
            return Some(m as u8);
        }
        if self.memo_keys.len() as u32 >= exits::MEMOS {
            return None;
        }
        self.memo_keys.push(key);
        Some((self.memo_keys.len() - 1) as u8)
    }

    /// After `instr` (`before`: the state it started in): forget what it may have changed.
    /// A store to a local forgets the elements it indexes or names; a store into an array
    /// checked at entry to share no memory with other arrays forgets that array's elements;
    /// anything else that may write memory (another store, an instruction not listed)
    /// forgets them all.
    fn forget_memos(&mut self, instr: &crate::bytecode::Instr, before: &State, state: &mut State) {
        if state.memos.is_empty() {
            return;
        }
        match instr.op {
            Op::STORE_SUBSCR => {
                // Into an array checked at entry not to share memory with other arrays: only
                // its own elements change.
                let d = before.stack.len();
                match before.stack.get(d.wrapping_sub(2)) {
                    Some(&Slot::LocalObj(k, EntryTy::Array { .. })) if self.disjoint_stores.contains(&k) => {
                        let keys = &self.memo_keys;
                        state.memos.retain(|&m| keys[m as usize].array != k);
                    }
                    _ => state.memos.clear(),
                }
            }
            Op::STORE_FAST => {
                let k = instr.arg;
                let keys = &self.memo_keys;
                state.memos.retain(|&m| {
                    let key = keys[m as usize];
                    key.array != k && !key.index.iter().any(|h| *h == Some(Home::Spill(k)))
                });
            }
            Op::LOAD_FAST
            | Op::LOAD_FAST_CHECK
            | Op::LOAD_CONST
            | Op::LOAD_GLOBAL
            | Op::LOAD_ATTR
            | Op::LOAD_METHOD
            | Op::PUSH_NULL
            | Op::NOP
            | Op::BINARY_OP
            | Op::BINARY_SUBSCR
            | Op::COMPARE_OP
            | Op::UNARY_NEGATIVE
            | Op::BUILD_TUPLE
            | Op::POP_TOP
            | Op::COPY
            | Op::SWAP
            | Op::GET_ITER
            | Op::FOR_ITER
            | Op::PRECALL
            | Op::CALL => {}
            _ => state.memos.clear(),
        }
    }

    /// Count a loop back-edge, as tier 1 does (explain() shows the code state's count; on
    /// 3.11 it tells when CPython would have quickened the code): in a spill slot, added to
    /// the code state's counter at every exit.
    fn count_backedge(&mut self) {
        if self.backedges != 0 {
            self.slot_add_imm(self.backedge_slot(), 1);
        }
    }

    fn depth(state: &State) -> u32 {
        state.stack.len() as u32
    }

    // --- spill slots, some of them living in registers -------------------------------------

    fn note_use(&mut self, slot: u32, float: bool) {
        let weight = self.weights.get(self.current).copied().unwrap_or(1);
        let entry = self.usage.entry(slot).or_insert((0, 0));
        if float {
            entry.0 += weight;
        } else {
            entry.1 += weight;
        }
    }

    fn sl_i(&mut self, dst: Reg, slot: u32) {
        self.note_use(slot, false);
        if self.just_stored == Some((self.asm.offset(), slot, Stored::I(dst))) && !self.asm.at_label() {
            return; // the register still holds what was just stored there
        }
        match self.map.ints.get(&slot) {
            Some(&n) => self.asm.mov(dst, Reg::Home(n)),
            None => self.asm.load_spill(dst, slot),
        }
    }

    fn ss_i(&mut self, slot: u32, src: Reg) {
        self.note_use(slot, false);
        match self.map.ints.get(&slot) {
            Some(&n) => self.asm.mov(Reg::Home(n), src),
            None => self.asm.store_spill(slot, src),
        }
        self.just_stored = Some((self.asm.offset(), slot, Stored::I(src)));
    }

    fn sl_f(&mut self, dst: FReg, slot: u32) {
        let slot = self.layout.float_view(slot);
        self.note_use(slot, true);
        if self.just_stored == Some((self.asm.offset(), slot, Stored::F(dst))) && !self.asm.at_label() {
            return; // the register still holds what was just stored there
        }
        match self.map.floats.get(&slot) {
            Some(&n) => self.asm.f_mov(dst, FReg::Home(n)),
            None => self.asm.load_spill_f(dst, slot),
        }
    }

    fn ss_f(&mut self, slot: u32, src: FReg) {
        let slot = self.layout.float_view(slot);
        self.note_use(slot, true);
        match self.map.floats.get(&slot) {
            Some(&n) => self.asm.f_mov(FReg::Home(n), src),
            None => self.asm.store_spill_f(slot, src),
        }
        self.just_stored = Some((self.asm.offset(), slot, Stored::F(src)));
    }

    /// `slot += imm`, in place when the slot lives in a register; the register holding the
    /// new value.
    fn slot_add_imm(&mut self, slot: u32, imm: i32) -> Reg {
        self.note_use(slot, false);
        if let Some(&n) = self.map.ints.get(&slot) {
            self.asm.i_add_imm(Reg::Home(n), imm);
            return Reg::Home(n);
        }
        self.sl_i(Reg::R0, slot);
        self.asm.i_add_imm(Reg::R0, imm);
        self.ss_i(slot, Reg::R0);
        Reg::R0
    }

    /// `slot += src`, in place when the slot lives in a register (R1 clobbered otherwise).
    fn slot_add(&mut self, slot: u32, src: Reg) {
        self.note_use(slot, false);
        if let Some(&n) = self.map.ints.get(&slot) {
            self.asm.i_add(Reg::Home(n), src);
            return;
        }
        self.sl_i(Reg::R1, slot);
        self.asm.i_add(Reg::R1, src);
        self.ss_i(slot, Reg::R1);
    }

    /// Copy an integer into `dst`: one move when both live in registers.
    fn copy_i(&mut self, dst: u32, src: Home) {
        if let Home::Spill(s) = src {
            if let (Some(&d), Some(&r)) = (self.map.ints.get(&dst), self.map.ints.get(&s)) {
                self.note_use(s, false);
                self.note_use(dst, false);
                self.asm.mov(Reg::Home(d), Reg::Home(r));
                return;
            }
        }
        self.load_i(Reg::R0, src);
        self.ss_i(dst, Reg::R0);
    }

    /// Copy a double into `dst`'s float view: one move when both live in registers.
    fn copy_f(&mut self, dst: u32, src: &Slot) -> Option<()> {
        if let Slot::F(_, Home::Spill(s), _) | Slot::N(NKind::F32, Home::Spill(s), _) = *src {
            let (fs, fd) = (self.layout.float_view(s), self.layout.float_view(dst));
            if let (Some(&d), Some(&r)) = (self.map.floats.get(&fd), self.map.floats.get(&fs)) {
                self.note_use(fs, true);
                self.note_use(fd, true);
                self.asm.f_mov(FReg::Home(d), FReg::Home(r));
                return Some(());
            }
        }
        self.load_f(FReg::F0, src)?;
        self.ss_f(dst, FReg::F0);
        Some(())
    }

    /// Write register-resident slots back to memory (before anything reads the spill area,
    /// or calls that clobber them); `all`: callee-saved homes too.
    fn flush(&mut self, all: bool) {
        for (&slot, &n) in &self.map.floats.clone() {
            self.asm.store_spill_f(slot, FReg::Home(n));
        }
        for (&slot, &n) in &self.map.ints.clone() {
            if all || !crate::backend::i_home_is_callee_saved(n) {
                self.asm.store_spill(slot, Reg::Home(n));
            }
        }
    }

    /// Reload register-resident slots after a call (`all`: after the entry helper).
    fn reload(&mut self, all: bool) {
        for (&slot, &n) in &self.map.floats.clone() {
            self.asm.load_spill_f(FReg::Home(n), slot);
        }
        for (&slot, &n) in &self.map.ints.clone() {
            if all || !crate::backend::i_home_is_callee_saved(n) {
                self.asm.load_spill(Reg::Home(n), slot);
            }
        }
    }

    /// Entry: read each array's data pointer, dimensions and strides, and each list's or
    /// tuple's size and items, into their cache slots.
    fn read_cached_facts(&mut self) {
        use super::numpy::{ARRAY_DATA, ARRAY_DIMS, ARRAY_STRIDES};
        self.asm.load_imm(Reg::R0, 0);
        self.ss_i(self.backedge_slot(), Reg::R0);
        for c in self.cached.clone() {
            self.asm.load_slot(Reg::R3, c.slot);
            if c.through_iter {
                self.asm.load_field(Reg::R3, Reg::R3, 24); // it_seq
            }
            match c.ty {
                EntryTy::Array { ndim, .. } => {
                    self.asm.load_field(Reg::R0, Reg::R3, ARRAY_DATA);
                    self.ss_i(self.layout.cache(c.data()), Reg::R0);
                    for axis in 0..ndim as u32 {
                        self.asm.load_field(Reg::R1, Reg::R3, ARRAY_DIMS);
                        self.asm.load_field(Reg::R0, Reg::R1, 8 * axis as i32);
                        self.ss_i(self.layout.cache(c.dim(axis)), Reg::R0);
                        self.asm.load_field(Reg::R1, Reg::R3, ARRAY_STRIDES);
                        self.asm.load_field(Reg::R0, Reg::R1, 8 * axis as i32);
                        self.ss_i(self.layout.cache(c.stride(axis)), Reg::R0);
                    }
                }
                EntryTy::List => {
                    self.asm.load_field(Reg::R0, Reg::R3, 16); // ob_size
                    self.ss_i(self.layout.cache(c.size()), Reg::R0);
                    self.asm.load_field(Reg::R0, Reg::R3, 24); // ob_item
                    self.ss_i(self.layout.cache(c.items()), Reg::R0);
                }
                _ => {
                    self.asm.load_field(Reg::R0, Reg::R3, 16); // ob_size
                    self.ss_i(self.layout.cache(c.size()), Reg::R0);
                    self.asm.i_add_imm(Reg::R3, 24); // &ob_item[0], inline
                    self.ss_i(self.layout.cache(c.items()), Reg::R3);
                }
            }
        }
    }

    /// The cached facts of local `k`.
    /// The spill slot counting back-edges since entry (after the cache slots; zeroed at entry,
    /// added to the code state's counter at exit).
    fn backedge_slot(&self) -> u32 {
        self.layout.cache(self.layout.cached - 1)
    }

    fn cached_of(&self, k: u32) -> Option<Cached> {
        self.cached.iter().find(|c| c.slot == k && !c.through_iter).copied()
    }

    /// The cached facts of the sequence of the iterator at stack position `d`.
    fn cached_of_iter(&self, d: u32) -> Option<Cached> {
        self.cached.iter().find(|c| c.slot == self.layout.nl + d && c.through_iter).copied()
    }

    /// `index` (in R0) made a valid offset for a sequence of `length` (loaded into R1):
    /// a negative index counts from the end, as numpy and lists do; `exit` if out of range.
    fn bounds_check(&mut self, length: u32, exit: Label) {
        let ok = self.asm.new_label();
        self.sl_i(Reg::R1, self.layout.cache(length));
        // 0 <= index < length in one unsigned compare; only negative indices go on.
        self.asm.u_jump_if_below(Reg::R0, Reg::R1, ok);
        self.asm.i_add(Reg::R0, Reg::R1);
        self.asm.u_jump_if_not_below(Reg::R0, Reg::R1, exit);
        self.asm.bind(ok);
    }

    // --- loading operands ----------------------------------------------------------------

    fn load_i(&mut self, dst: Reg, home: Home) {
        match home {
            Home::Spill(s) => self.sl_i(dst, s),
            Home::Imm(v) => self.asm.load_imm(dst, v),
        }
    }

    /// An operand as a double in `dst` (ints converted as CPython converts them).
    fn load_f(&mut self, dst: FReg, slot: &Slot) -> Option<()> {
        match *slot {
            Slot::F(_, Home::Spill(s), _) | Slot::N(NKind::F32, Home::Spill(s), _) => self.sl_f(dst, s),
            Slot::F(_, Home::Imm(bits), _) | Slot::N(NKind::F32, Home::Imm(bits), _) => self.asm.f_load_bits(dst, bits),
            // numpy's int64-to-double cast is C's, rounding to nearest like CPython's.
            Slot::I(home, _) | Slot::N(NKind::I64 | NKind::I32, home, _) => {
                self.load_i(Reg::R0, home);
                self.asm.f_from_i64(dst, Reg::R0);
            }
            _ => return None,
        }
        Some(())
    }

    /// A double operand where it is: its home register when it lives in one, else loaded
    /// into `scratch`.
    fn f_operand(&mut self, slot: &Slot, scratch: FReg) -> Option<FReg> {
        if let Slot::F(_, Home::Spill(s), _) | Slot::N(NKind::F32, Home::Spill(s), _) = *slot {
            let view = self.layout.float_view(s);
            if let Some(&n) = self.map.floats.get(&view) {
                self.note_use(view, true);
                return Some(FReg::Home(n));
            }
        }
        self.load_f(scratch, slot)?;
        Some(scratch)
    }

    fn refers_to_local(state: &State, k: u32) -> bool {
        state.stack.iter().any(|s| match *s {
            Slot::F(_, _, Origin::Local(j)) | Slot::I(_, Origin::Local(j)) | Slot::N(_, _, Origin::Local(j)) | Slot::LocalObj(j, _) => j == k,
            Slot::Tuple(n, items) => items[..n as usize].iter().any(|&(_, o)| o == Origin::Local(k)),
            _ => false,
        })
    }

    // --- instructions ------------------------------------------------------------------

    fn gen(&mut self, pos: usize, state: &mut State) -> Option<Step> {
        let instr = &self.bc.instrs[pos];
        let d = Self::depth(state);
        match instr.op {
            Op::NOP | Op::PRECALL => Some(Step::Next),
            Op::LOAD_FAST | Op::LOAD_FAST_CHECK => {
                let k = instr.arg;
                let slot = match *state.locals.get(k as usize)? {
                    Local::F(kind, _) => Slot::F(kind, Home::Spill(self.layout.local(k)), Origin::Local(k)),
                    Local::I(_) => Slot::I(Home::Spill(self.layout.local(k)), Origin::Local(k)),
                    Local::N(kind, _) => Slot::N(kind, Home::Spill(self.layout.local(k)), Origin::Local(k)),
                    Local::B(kind) => Slot::B(kind, Home::Spill(self.layout.local(k))),
                    Local::Obj(ty) => Slot::LocalObj(k, ty),
                    Local::Null => return None,
                };
                state.stack.push(slot);
                Some(Step::Next)
            }
            Op::LOAD_CONST => {
                let obj = *self.consts.get(instr.arg as usize)?;
                let slot = unsafe {
                    if Py_TYPE(obj) == std::ptr::addr_of_mut!(PyFloat_Type) && PyFloat_AS_DOUBLE(obj).is_finite() {
                        Slot::F(FKind::Float, Home::Imm(PyFloat_AS_DOUBLE(obj).to_bits()), Origin::Const(obj as usize))
                    } else if Py_TYPE(obj) == std::ptr::addr_of_mut!(PyLong_Type) {
                        let mut overflow = 0;
                        let v = PyLong_AsLongLongAndOverflow(obj, &mut overflow);
                        if overflow != 0 || !PyErr_Occurred().is_null() {
                            PyErr_Clear();
                            Slot::ConstObj(obj as usize)
                        } else {
                            Slot::I(Home::Imm(v as u64), Origin::Const(obj as usize))
                        }
                    } else {
                        Slot::ConstObj(obj as usize)
                    }
                };
                state.stack.push(slot);
                Some(Step::Next)
            }
            Op::STORE_FAST => {
                let k = instr.arg;
                let value = *state.stack.last()?;
                let rest = State { locals: state.locals.clone(), stack: state.stack[..state.stack.len() - 1].to_vec(), memos: Vec::new() };
                if Self::refers_to_local(&rest, k) {
                    return None;
                }
                if let Slot::B(kind, home) = value {
                    // Truth values have no identity to keep: copy the bit.
                    let target = self.layout.local(k);
                    if home != Home::Spill(target) {
                        self.load_i(Reg::R0, home);
                        self.ss_i(target, Reg::R0);
                    }
                    state.stack.pop();
                    state.locals[k as usize] = Local::B(kind);
                    return Some(Step::Next);
                }
                let (home, origin) = match value {
                    Slot::F(_, home, origin) | Slot::I(home, origin) | Slot::N(_, home, origin) => (home, origin),
                    _ => return None,
                };
                let local = match origin {
                    Origin::Local(j) if j == k => state.locals[k as usize],
                    Origin::Local(_) => return None,
                    _ => {
                        let target = self.layout.local(k);
                        if home != Home::Spill(target) {
                            // Copy doubles as doubles and ints as ints, so that each slot has
                            // one kind and may live in a register.
                            if matches!(value, Slot::F(..) | Slot::N(NKind::F32, ..)) {
                                self.copy_f(target, &value)?;
                            } else {
                                self.copy_i(target, home);
                            }
                        }
                        let origin = match origin {
                            Origin::Ptr(p) => {
                                self.sl_i(Reg::R0, p);
                                self.ss_i(self.layout.local_ptr(k), Reg::R0);
                                Origin::Ptr(self.layout.local_ptr(k))
                            }
                            other => other,
                        };
                        match value {
                            Slot::F(kind, ..) => Local::F(kind, origin),
                            Slot::N(kind, ..) => Local::N(kind, origin),
                            _ => Local::I(origin),
                        }
                    }
                };
                state.stack.pop();
                state.locals[k as usize] = local;
                Some(Step::Next)
            }
            Op::POP_TOP => match state.stack.last()? {
                Slot::EntryObj | Slot::RangeIter { real: true, .. } | Slot::SeqIter(_) => None,
                _ => {
                    state.stack.pop();
                    Some(Step::Next)
                }
            },
            Op::PUSH_NULL => {
                state.stack.push(Slot::Null);
                Some(Step::Next)
            }
            Op::LOAD_GLOBAL => self.gen_load_global(instr.arg, state),
            Op::LOAD_ATTR if cpython::VERSION >= (3, 12) => self.gen_math_attr(instr.arg >> 1, instr.arg & 1 == 1, state),
            Op::LOAD_ATTR => self.gen_math_attr(instr.arg, false, state),
            Op::LOAD_METHOD => self.gen_math_attr(instr.arg, true, state),
            Op::CALL => self.gen_call(pos, instr.arg, state),
            Op::GET_ITER => self.gen_get_iter(pos, state),
            Op::FOR_ITER => self.gen_for_iter(pos, state),
            Op::JUMP_BACKWARD => {
                let Flow::Jump(target) = instr.flow() else { return None };
                let breaker = self.exit(pos, state, false, "eval_breaker");
                self.asm.jump_if_i32_at_nonzero(self.eval_breaker, breaker);
                self.count_backedge();
                let tp = self.bc.position(target)?;
                let label = self.version(tp, state.clone());
                self.asm.jump(label);
                Some(Step::Done)
            }
            Op::JUMP_FORWARD => {
                let Flow::Jump(target) = instr.flow() else { return None };
                let label = self.version(self.bc.position(target)?, state.clone());
                self.asm.jump(label);
                Some(Step::Done)
            }
            Op::POP_JUMP_IF_FALSE | Op::POP_JUMP_FORWARD_IF_FALSE | Op::POP_JUMP_BACKWARD_IF_FALSE => {
                self.gen_branch(pos, state, false)
            }
            Op::POP_JUMP_IF_TRUE | Op::POP_JUMP_FORWARD_IF_TRUE | Op::POP_JUMP_BACKWARD_IF_TRUE => {
                self.gen_branch(pos, state, true)
            }
            Op::JUMP_IF_FALSE_OR_POP => self.gen_branch_or_pop(pos, state, false),
            Op::JUMP_IF_TRUE_OR_POP => self.gen_branch_or_pop(pos, state, true),
            Op::UNARY_NEGATIVE if d >= 1 => self.gen_negative(pos, state),
            Op::UNARY_NOT if d >= 1 => {
                // `not x` is a Python bool whatever x's truth type.
                let (Slot::B(_, h) | Slot::I(h, _) | Slot::N(NKind::I64 | NKind::I32, h, _)) = *state.stack.last()? else { return None };
                let home = self.layout.stack(d - 1);
                self.load_i(Reg::R1, h);
                self.asm.load_imm(Reg::R2, 0);
                self.asm.i_set_if(Cond::Eq, Reg::R0, Reg::R1, Reg::R2);
                self.ss_i(home, Reg::R0);
                state.stack.pop();
                state.stack.push(Slot::B(BKind::Bool, Home::Spill(home)));
                Some(Step::Next)
            }
            Op::COPY if instr.arg >= 1 && instr.arg <= d => {
                let from = (d - instr.arg) as usize;
                let slot = self.rehome(&[(state.stack[from], d)])?;
                state.stack.push(slot[0]);
                Some(Step::Next)
            }
            Op::SWAP if instr.arg >= 2 && instr.arg <= d => {
                let (low, top) = ((d - instr.arg) as usize, (d - 1) as usize);
                let moved = self.rehome(&[(state.stack[top], low as u32), (state.stack[low], top as u32)])?;
                state.stack[low] = moved[0];
                state.stack[top] = moved[1];
                Some(Step::Next)
            }
            Op::COMPARE_OP if d >= 2 => self.gen_compare(pos, instr.arg, state),
            Op::BINARY_OP if d >= 2 => self.gen_binary_op(pos, instr.arg, state),
            Op::BINARY_SUBSCR if d >= 2 => self.gen_subscr(pos, state),
            Op::STORE_SUBSCR if d >= 3 => self.gen_store_subscr(pos, state),
            Op::BUILD_TUPLE if (2..=3).contains(&instr.arg) && d >= instr.arg => {
                // An index tuple of ints, built at compile time: constants and locals stay
                // where they are; values computed on the stack move to the range spills of
                // the tuple's position, which nothing else writes while the tuple lives.
                let n = instr.arg;
                let p = d - n;
                let mut items = [(Home::Imm(0), Origin::Fresh); 3];
                for i in 0..n {
                    let Slot::I(h, o) = state.stack[(p + i) as usize] else { return None };
                    items[i as usize] = match (h, o) {
                        (Home::Imm(_), _) | (_, Origin::Local(_)) => (h, o),
                        _ => {
                            self.load_i(Reg::R0, h);
                            self.ss_i(self.layout.range(p, i), Reg::R0);
                            (Home::Spill(self.layout.range(p, i)), o)
                        }
                    };
                }
                state.stack.truncate(p as usize);
                state.stack.push(Slot::Tuple(n as u8, items));
                Some(Step::Next)
            }
            _ => None,
        }
    }

    fn gen_load_global(&mut self, arg: u32, state: &mut State) -> Option<Step> {
        let name = *self.names.get((arg >> 1) as usize)?;
        let py = unsafe { Python::assume_attached() };
        let found = unsafe { lookup_global(py, self.frame, name) };
        // Looked up in sys.modules at C level: compiling runs no Python code (see gc_pause).
        let builtins = super::state::loaded_module(py, c"builtins")?;
        let math = super::state::loaded_module(py, c"math");
        // The builtins module's own C functions, not whatever `builtins.len` is rebound to.
        let genuine = |name: &str| unsafe { is_module_function(found, builtins.as_ptr(), name) };
        let kind = if found == std::ptr::addr_of!(PyRange_Type) as usize {
            Builtin::Range
        } else if found == std::ptr::addr_of!(PyLong_Type) as usize {
            Builtin::IntType
        } else if found == std::ptr::addr_of!(PyFloat_Type) as usize {
            Builtin::FloatType
        } else if genuine("min") {
            Builtin::Min
        } else if genuine("max") {
            Builtin::Max
        } else if genuine("len") {
            Builtin::Len
        } else if genuine("abs") {
            Builtin::Abs
        } else if math.as_ref().is_some_and(|m| m.as_ptr() as usize == found) {
            Builtin::MathModule
        } else {
            return None;
        };
        let name_obj = unsafe { Bound::from_borrowed_ptr(py, name) }.unbind();
        self.assumptions.push(super::Assumption { name: name_obj, module: None, expected: found });
        if arg & 1 == 1 {
            state.stack.push(Slot::Null);
        }
        state.stack.push(Slot::Builtin(found, kind));
        Some(Step::Next)
    }

    /// `math.<function>` (LOAD_ATTR, or LOAD_METHOD on 3.11) on the math module.
    fn gen_math_attr(&mut self, name_index: u32, method_form: bool, state: &mut State) -> Option<Step> {
        let Slot::Builtin(module, Builtin::MathModule) = *state.stack.last()? else { return None };
        let name = *self.names.get(name_index as usize)?;
        let py = unsafe { Python::assume_attached() };
        let name_obj = unsafe { Bound::from_borrowed_ptr(py, name) };
        let attr: String = name_obj.extract().ok()?;
        let (_, which) = MathFn::ALL.iter().find(|(n, _)| *n == attr)?;
        let module_obj = unsafe { Bound::from_borrowed_ptr(py, module as *mut PyObject) };
        let function = unsafe { super::state::module_attribute(module as *mut PyObject, name) };
        // Only the math module's own C function of that name (not a rebound attribute).
        if !unsafe { is_module_function(function, module as *mut PyObject, &attr) } {
            return None;
        }
        self.assumptions.push(super::Assumption {
            name: name_obj.unbind(),
            module: Some(module_obj.unbind()),
            expected: function,
        });
        state.stack.pop();
        if method_form {
            // A module attribute is not an unbound method: [NULL, function].
            state.stack.push(Slot::Null);
        }
        state.stack.push(Slot::Builtin(function, Builtin::Math(*which)));
        Some(Step::Next)
    }

    /// `abs(x)` and the `math` functions on one number.
    fn gen_numeric_call(&mut self, pos: usize, which: Builtin, arg: Slot, base: u32, state: &mut State) -> Option<Step> {
        let pre = state.clone();
        let home = self.layout.stack(base);
        match (which, arg) {
            (Builtin::Abs, Slot::I(h, _)) => {
                let exit = self.exit(pos, &pre, true, "int_overflow");
                self.load_i(Reg::R1, h);
                let done = self.asm.new_label();
                self.asm.i_jump_if_imm(Cond::Ge, Reg::R1, 0, done);
                self.asm.load_imm(Reg::R2, 0);
                self.asm.i_arith(IOp::Sub, Reg::R2, Reg::R1, exit);
                self.asm.mov(Reg::R1, Reg::R2);
                self.asm.bind(done);
                self.ss_i(home, Reg::R1);
                state.stack.truncate(base as usize);
                state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
            }
            (Builtin::Abs, Slot::F(kind, ..)) => {
                self.load_f(FReg::F0, &arg)?;
                self.asm.f_abs(FReg::F0);
                self.ss_f(home, FReg::F0);
                state.stack.truncate(base as usize);
                state.stack.push(Slot::F(kind, Home::Spill(home), Origin::Fresh));
            }
            (Builtin::Math(f @ (MathFn::Floor | MathFn::Ceil | MathFn::Trunc)), Slot::F(FKind::Float, ..)) => {
                let exit = self.exit(pos, &pre, true, "int_overflow");
                self.load_f(FReg::F0, &arg)?;
                let function: unsafe extern "C" fn(f64) -> f64 = match f {
                    MathFn::Floor => libm::floor,
                    MathFn::Ceil => libm::ceil,
                    _ => libm::trunc,
                };
                self.flush(false);
                self.asm.call_f(function as usize);
                self.reload(false);
                self.f_to_int(FReg::F0, Reg::R0, exit);
                self.ss_i(home, Reg::R0);
                state.stack.truncate(base as usize);
                state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
            }
            (Builtin::Math(MathFn::Floor | MathFn::Ceil | MathFn::Trunc), _) => return None,
            (Builtin::Math(f), Slot::F(..) | Slot::I(..)) => {
                let exit = self.exit(pos, &pre, true, "math_domain");
                self.load_f(FReg::F0, &arg)?;
                // Domains: the C function would give a NaN the interpreter turns into an error.
                self.asm.f_load_bits(FReg::F1, 0);
                match f {
                    MathFn::Sqrt => self.asm.f_jump_if(Cond::Lt, FReg::F0, FReg::F1, exit),
                    MathFn::Log | MathFn::Log2 | MathFn::Log10 => self.asm.f_jump_if(Cond::Le, FReg::F0, FReg::F1, exit),
                    _ => {}
                }
                let function: unsafe extern "C" fn(f64) -> f64 = match f {
                    MathFn::Sqrt => libm::sqrt,
                    MathFn::Exp => libm::exp,
                    MathFn::Log => libm::log,
                    MathFn::Sin => libm::sin,
                    MathFn::Cos => libm::cos,
                    MathFn::Tan => libm::tan,
                    MathFn::Atan => libm::atan,
                    MathFn::Tanh => libm::tanh,
                    MathFn::Fabs => libm::fabs,
                    MathFn::Asin => libm::asin,
                    MathFn::Acos => libm::acos,
                    MathFn::Asinh => libm::asinh,
                    MathFn::Acosh => libm::acosh,
                    MathFn::Atanh => libm::atanh,
                    MathFn::Sinh => libm::sinh,
                    MathFn::Cosh => libm::cosh,
                    MathFn::Log2 => libm::log2,
                    MathFn::Log10 => libm::log10,
                    MathFn::Floor | MathFn::Ceil | MathFn::Trunc => unreachable!("handled above"),
                };
                self.flush(false);
                self.asm.call_f(function as usize);
                self.reload(false);
                self.asm.jump_if_f_nonfinite(FReg::F0, exit);
                self.ss_f(home, FReg::F0);
                state.stack.truncate(base as usize);
                // math functions return Python floats, whatever number they were given.
                state.stack.push(Slot::F(FKind::Float, Home::Spill(home), Origin::Fresh));
            }
            _ => return None,
        }
        Some(Step::Next)
    }

    /// `int(x)` and `float(x)` of one number.
    fn gen_conversion(&mut self, pos: usize, to_int: bool, arg: Slot, base: u32, state: &mut State) -> Option<Step> {
        let home = self.layout.stack(base);
        let h = Home::Spill(home);
        let result = match (to_int, arg) {
            // An exact int or float converted to its own type is the same object.
            (true, Slot::I(..)) | (false, Slot::F(FKind::Float, ..)) => arg,
            (true, Slot::N(NKind::I64 | NKind::I32, ih, _)) => {
                self.load_i(Reg::R0, ih);
                self.ss_i(home, Reg::R0);
                Slot::I(h, Origin::Fresh)
            }
            (true, Slot::F(..) | Slot::N(NKind::F32, ..)) => {
                // Truncation toward zero (float.__int__, numpy's too); outside the int64 range
                // the interpreter makes a big int.
                let pre = state.clone();
                let exit = self.exit(pos, &pre, true, "int_overflow");
                self.load_f(FReg::F0, &arg)?;
                self.f_to_int(FReg::F0, Reg::R0, exit);
                self.ss_i(home, Reg::R0);
                Slot::I(h, Origin::Fresh)
            }
            // int to double rounds to nearest (even), as CPython's and numpy's conversions do;
            // float32 and float64 values are already the doubles float() returns.
            (false, Slot::F(FKind::NpF64, ..) | Slot::I(..) | Slot::N(..)) => {
                self.load_f(FReg::F0, &arg)?;
                self.ss_f(home, FReg::F0);
                Slot::F(FKind::Float, h, Origin::Fresh)
            }
            _ => return None,
        };
        state.stack.truncate(base as usize);
        state.stack.push(result);
        Some(Step::Next)
    }

    /// `dst = (int64) src` truncated toward zero (F1 clobbered); `exit` when the result would
    /// not fit in 64 bits (the interpreter makes a big int).
    fn f_to_int(&mut self, src: FReg, dst: Reg, exit: Label) {
        self.asm.f_load_bits(FReg::F1, 9223372036854775808.0f64.to_bits());
        self.asm.f_jump_if(Cond::Ge, src, FReg::F1, exit);
        self.asm.f_load_bits(FReg::F1, (-9223372036854775808.0f64).to_bits());
        self.asm.f_jump_if(Cond::Lt, src, FReg::F1, exit);
        self.asm.f_to_i64_trunc(dst, src);
    }

    /// The object a number operand is (address into `dst`, 0 if it has none yet).
    fn load_object(&mut self, dst: Reg, origin: Origin, state: &State) {
        let origin = match origin {
            Origin::Local(k) => match state.locals[k as usize] {
                Local::F(_, Origin::Entry) | Local::I(Origin::Entry) | Local::N(_, Origin::Entry) => {
                    self.asm.load_slot(dst, k);
                    return;
                }
                Local::F(_, o) | Local::I(o) | Local::N(_, o) => o,
                _ => Origin::Fresh,
            },
            other => other,
        };
        match origin {
            Origin::Const(addr) => self.asm.load_imm(dst, addr as u64),
            Origin::Ptr(p) => self.sl_i(dst, p),
            _ => self.asm.load_imm(dst, 0),
        }
    }

    /// `min(a, b, ...)` / `max(a, b, ...)` of numbers of one type: the first least (greatest)
    /// argument, as builtin min/max pick it (`b if b < a else a`), and the very object: its
    /// address travels in a pointer spill (0 for a computed value without an object yet).
    fn gen_min_max(&mut self, pos: usize, is_min: bool, args: &[Slot], base: u32, state: &mut State) -> Option<Step> {
        // One type for all, or the result's type would depend on the values.
        let same = |s: &Slot| match (args[0], *s) {
            (Slot::I(..), Slot::I(..)) => true,
            (Slot::F(a, ..), Slot::F(b, ..)) => a == b,
            (Slot::N(a, ..), Slot::N(b, ..)) => a == b,
            _ => false,
        };
        if !args.iter().all(same) {
            return None;
        }
        let int = matches!(args[0], Slot::I(..) | Slot::N(NKind::I64 | NKind::I32, ..));
        let origins: Vec<Origin> = args
            .iter()
            .map(|s| match *s {
                Slot::I(_, o) | Slot::F(_, _, o) | Slot::N(_, _, o) => o,
                _ => Origin::Fresh,
            })
            .collect();
        // A local whose value has no object of its own may be chosen: the result is then that
        // local's value, which may only go back into that local (no second holder of what
        // would be one object in CPython).
        for origin in &origins {
            if let Origin::Local(k) = *origin {
                if matches!(state.locals[k as usize], Local::F(_, Origin::Fresh | Origin::Ptr(_)) | Local::I(Origin::Fresh | Origin::Ptr(_)) | Local::N(_, Origin::Fresh | Origin::Ptr(_))) {
                    let next = self.bc.instrs.get(pos + 1)?;
                    if next.op != Op::STORE_FAST || next.arg != k {
                        return None;
                    }
                }
            }
        }
        let track = origins.iter().any(|o| *o != Origin::Fresh);
        let home = self.layout.stack(base);
        let ptr = self.layout.stack_ptr(base);
        // Candidate worse or equal: keep the current choice.
        let keep = if is_min { Cond::Ge } else { Cond::Le };
        let snapshot = state.clone();
        for (i, arg) in args.iter().enumerate() {
            let skip = self.asm.new_label();
            if int {
                let (Slot::I(h, _) | Slot::N(_, h, _)) = *arg else { return None };
                self.load_i(if i == 0 { Reg::R1 } else { Reg::R2 }, h);
                if i > 0 {
                    self.asm.i_jump_if(keep, Reg::R2, Reg::R1, skip);
                    self.asm.mov(Reg::R1, Reg::R2);
                }
            } else {
                self.load_f(if i == 0 { FReg::F0 } else { FReg::F1 }, arg)?;
                if i > 0 {
                    // Finite doubles: ordered comparisons.
                    self.asm.f_jump_if(keep, FReg::F1, FReg::F0, skip);
                    self.asm.f_mov(FReg::F0, FReg::F1);
                }
            }
            if track {
                self.load_object(Reg::R3, origins[i], &snapshot);
            }
            self.asm.bind(skip);
        }
        let origin = if track {
            self.ss_i(ptr, Reg::R3);
            Origin::Ptr(ptr)
        } else {
            Origin::Fresh
        };
        let h = Home::Spill(home);
        let result = match args[0] {
            Slot::I(..) => Slot::I(h, origin),
            Slot::N(kind, ..) => Slot::N(kind, h, origin),
            Slot::F(kind, ..) => Slot::F(kind, h, origin),
            _ => return None,
        };
        if int {
            self.ss_i(home, Reg::R1);
        } else {
            self.ss_f(home, FReg::F0);
        }
        let _ = pos;
        state.stack.truncate(base as usize);
        state.stack.push(result);
        Some(Step::Next)
    }

    fn gen_call(&mut self, pos: usize, nargs: u32, state: &mut State) -> Option<Step> {
        let d = Self::depth(state);
        let base = d.checked_sub(nargs + 2)?;
        if state.stack[base as usize] != Slot::Null {
            return None;
        }
        let Slot::Builtin(_, which) = state.stack[base as usize + 1] else { return None };
        let args: Vec<Slot> = state.stack[(base + 2) as usize..].to_vec();
        if matches!(which, Builtin::Abs | Builtin::Math(_)) && nargs == 1 {
            return self.gen_numeric_call(pos, which, args[0], base, state);
        }
        if matches!(which, Builtin::IntType | Builtin::FloatType) && nargs == 1 {
            return self.gen_conversion(pos, which == Builtin::IntType, args[0], base, state);
        }
        if matches!(which, Builtin::Min | Builtin::Max) && nargs >= 2 {
            return self.gen_min_max(pos, which == Builtin::Min, &args, base, state);
        }
        match (which, nargs) {
            (Builtin::Range, 1..=3) => {
                let homes: Vec<Home> = args
                    .iter()
                    .map(|a| match a {
                        Slot::I(h, _) => Some(*h),
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                let (start, stop, step) = match nargs {
                    1 => (Home::Imm(0), homes[0], Home::Imm(1)),
                    2 => (homes[0], homes[1], Home::Imm(1)),
                    _ => (homes[0], homes[1], homes[2]),
                };
                if step == Home::Imm(0) {
                    return None;
                }
                let pre = state.clone();
                self.load_i(Reg::R0, start);
                self.load_i(Reg::R1, stop);
                self.load_i(Reg::R2, step);
                if let Home::Spill(_) = step {
                    let exit = self.exit(pos, &pre, true, "range_step_zero");
                    self.asm.jump_if_zero(Reg::R2, exit);
                }
                self.ss_i(self.layout.range(base, 0), Reg::R0);
                self.ss_i(self.layout.range(base, 1), Reg::R1);
                self.ss_i(self.layout.range(base, 2), Reg::R2);
                state.stack.truncate(base as usize);
                state.stack.push(Slot::Range { unit_step: step == Home::Imm(1) });
                Some(Step::Next)
            }
            (Builtin::Len, 1) => {
                let Slot::LocalObj(k, ty) = args[0] else { return None };
                let c = self.cached_of(k)?;
                match ty {
                    EntryTy::Array { .. } => self.sl_i(Reg::R0, self.layout.cache(c.dim(0))),
                    EntryTy::List | EntryTy::Tuple => self.sl_i(Reg::R0, self.layout.cache(c.size())),
                    _ => return None,
                }
                let home = self.layout.stack(base);
                self.ss_i(home, Reg::R0);
                state.stack.truncate(base as usize);
                state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
                Some(Step::Next)
            }
            _ => None,
        }
    }

    fn gen_get_iter(&mut self, pos: usize, state: &mut State) -> Option<Step> {
        let Slot::Range { unit_step } = *state.stack.last()? else { return None };
        let p = Self::depth(state) - 1;
        let pre = state.clone();
        let exit = self.exit(pos, &pre, true, "range_too_long");
        if unit_step {
            // range(start, stop): stop - start values, or none; a length beyond a C long
            // (the subtraction overflows) makes CPython's other iterator: exit.
            let nonempty = self.asm.new_label();
            self.sl_i(Reg::R0, self.layout.range(p, 1));
            self.sl_i(Reg::R1, self.layout.range(p, 0));
            self.asm.i_arith(IOp::Sub, Reg::R0, Reg::R1, exit);
            self.asm.i_jump_if_imm(Cond::Ge, Reg::R0, 0, nonempty);
            self.asm.load_imm(Reg::R0, 0);
            self.asm.bind(nonempty);
        } else {
            // range_len(start, stop, step): load from the range spills.
            self.sl_i(Reg::R1, self.layout.range(p, 0));
            self.sl_i(Reg::R2, self.layout.range(p, 1));
            self.sl_i(Reg::R3, self.layout.range(p, 2));
            self.flush(false);
            self.asm.call(exits::range_len as usize, &[Arg::Reg(Reg::R1), Arg::Reg(Reg::R2), Arg::Reg(Reg::R3)]);
            self.reload(false);
            self.asm.i_jump_if_imm(Cond::Lt, Reg::R0, 0, exit);
        }
        self.sl_i(Reg::R1, self.layout.range(p, 2));
        self.ss_i(self.layout.range(p, 1), Reg::R1);
        self.ss_i(self.layout.range(p, 2), Reg::R0);
        state.stack.pop();
        state.stack.push(Slot::RangeIter { real: false, unit_step });
        Some(Step::Next)
    }

    fn gen_for_iter(&mut self, pos: usize, state: &mut State) -> Option<Step> {
        if let Slot::SeqIter(kind) = *state.stack.last()? {
            return self.gen_for_iter_seq(pos, kind, state);
        }
        let Slot::RangeIter { real, unit_step } = *state.stack.last()? else { return None };
        let p = Self::depth(state) - 1;
        let instr = &self.bc.instrs[pos];
        let exhausted_pos = self.bc.position(instr.for_iter_exit())?;
        let mut done_state = state.clone();
        done_state.stack.pop();
        // remaining -= 1; below zero, the loop is over (its end laid out of line: the
        // counter is dead there).
        let remaining = self.slot_add_imm(self.layout.range(p, 2), -1);
        let end = self.asm.new_label();
        self.asm.i_jump_if_imm(Cond::Lt, remaining, 0, end);
        let done = self.version(exhausted_pos, done_state);
        self.cold.push(ColdPath { label: end, release: real.then_some(self.layout.nl + p), then: done });
        // The value is `next`; next += step.
        self.sl_i(Reg::R1, self.layout.range(p, 0));
        let home = self.layout.stack(p + 1);
        self.ss_i(home, Reg::R1);
        if unit_step {
            self.slot_add_imm(self.layout.range(p, 0), 1);
        } else {
            self.sl_i(Reg::R2, self.layout.range(p, 1));
            self.slot_add(self.layout.range(p, 0), Reg::R2);
        }
        state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
        Some(Step::Next)
    }

    /// FOR_ITER over a list, tuple or one-dimensional array: the next item as the iterator
    /// gives it (list and tuple items guarded to the type compiled for, array elements as
    /// numpy's scalars), the index kept in the position's first range spill.
    fn gen_for_iter_seq(&mut self, pos: usize, kind: SeqKind, state: &mut State) -> Option<Step> {
        let p = Self::depth(state) - 1;
        let c = self.cached_of_iter(p)?;
        let instr = &self.bc.instrs[pos];
        let exhausted_pos = self.bc.position(instr.for_iter_exit())?;
        let pre = state.clone();
        let mut done_state = state.clone();
        done_state.stack.pop();
        let ints = match kind {
            SeqKind::List | SeqKind::Tuple => unsafe {
                let iter = *cpython::field::<*mut PyObject>(self.frame.cast(), cpython::FRAME_LOCALSPLUS + 8 * (self.layout.nl + p) as usize);
                Self::sequence_of_ints(exits::seq_iter_read(iter).1)
            },
            SeqKind::Array(_) => false,
        };
        let exit = self.exit(pos, &pre, true, if matches!(kind, SeqKind::Array(_)) { "nonfinite_value" } else { "list_item" });
        let more = self.asm.new_label();
        let length = match kind {
            SeqKind::Array(_) => c.dim(0),
            SeqKind::List | SeqKind::Tuple => c.size(),
        };
        self.sl_i(Reg::R0, self.layout.range(p, 0));
        self.sl_i(Reg::R1, self.layout.cache(length));
        self.asm.i_jump_if(Cond::Lt, Reg::R0, Reg::R1, more);
        // The end: the iterator lets go of its sequence and is dropped, unless that would
        // free the sequence (then the interpreter ends the loop).
        let handed_over = self.exit(pos, &pre, false, "loop_exit");
        self.flush(false);
        self.asm.call(exits::finish_seq_iter as usize, &[Arg::Frame, Arg::Imm((self.layout.nl + p) as u64)]);
        self.reload(false);
        self.asm.jump_if_zero(Reg::R0, handed_over);
        let done = self.version(exhausted_pos, done_state);
        self.asm.jump(done);
        self.asm.bind(more);
        let item = match kind {
            SeqKind::List | SeqKind::Tuple => {
                self.sl_i(Reg::R1, self.layout.cache(c.items()));
                self.asm.load_imm(Reg::R2, 8);
                self.asm.i_mul(Reg::R2, Reg::R0);
                self.asm.i_add(Reg::R1, Reg::R2);
                self.asm.load_field(Reg::R1, Reg::R1, 0);
                let item = self.unbox_item(ints, exit, p + 1);
                if let Slot::F(..) = item {
                    self.load_f(FReg::F0, &item)?;
                    self.asm.jump_if_f_nonfinite(FReg::F0, exit);
                }
                item
            }
            SeqKind::Array(dtype) => {
                self.sl_i(Reg::S0, self.layout.cache(c.data()));
                self.sl_i(Reg::R2, self.layout.cache(c.stride(0)));
                self.asm.i_mul(Reg::R2, Reg::R0);
                self.asm.i_add(Reg::S0, Reg::R2);
                self.uses_numpy = true;
                self.load_element(dtype, p + 1, Some(exit))
            }
        };
        self.sl_i(Reg::R0, self.layout.range(p, 0));
        self.asm.i_add_imm(Reg::R0, 1);
        self.ss_i(self.layout.range(p, 0), Reg::R0);
        state.stack.push(item);
        Some(Step::Next)
    }

    /// 3.11's JUMP_IF_FALSE_OR_POP / JUMP_IF_TRUE_OR_POP (`and`/`or` as values): jump keeping
    /// the value, or pop it and go on.
    fn gen_branch_or_pop(&mut self, pos: usize, state: &mut State, jump_if: bool) -> Option<Step> {
        let Flow::Branch(target) = self.bc.instrs[pos].flow() else { return None };
        if target <= self.bc.instrs[pos].index {
            return None;
        }
        let top = *state.stack.last()?;
        self.truth(top)?;
        let taken = self.version(self.bc.position(target)?, state.clone());
        if jump_if {
            self.asm.jump_if_nonzero(Reg::R0, taken);
        } else {
            self.asm.jump_if_zero(Reg::R0, taken);
        }
        state.stack.pop();
        Some(Step::Next)
    }

    /// The truth of a number or truth value into R0 (nonzero = true).
    fn truth(&mut self, top: Slot) -> Option<()> {
        match top {
            Slot::B(_, home) | Slot::I(home, _) | Slot::N(NKind::I64 | NKind::I32, home, _) => self.load_i(Reg::R0, home),
            Slot::F(..) => {
                self.load_f(FReg::F0, &top)?;
                let zero = self.asm.new_label();
                let done = self.asm.new_label();
                self.asm.jump_if_f_zero(FReg::F0, zero);
                self.asm.load_imm(Reg::R0, 1);
                self.asm.jump(done);
                self.asm.bind(zero);
                self.asm.load_imm(Reg::R0, 0);
                self.asm.bind(done);
            }
            _ => return None,
        }
        Some(())
    }

    fn gen_branch(&mut self, pos: usize, state: &mut State, jump_if: bool) -> Option<Step> {
        let Flow::Branch(target) = self.bc.instrs[pos].flow() else { return None };
        let top = *state.stack.last()?;
        self.truth(top)?;
        let backward = target <= self.bc.instrs[pos].index;
        let pre = state.clone();
        state.stack.pop();
        let mut taken = self.version(self.bc.position(target)?, state.clone());
        if backward {
            // A loop's back-edge: poll the eval breaker on the way, as the interpreter does.
            let edge = self.asm.new_label();
            let skip = self.asm.new_label();
            self.asm.jump(skip);
            self.asm.bind(edge);
            let breaker = self.exit(pos, &pre, false, "eval_breaker");
            self.asm.jump_if_i32_at_nonzero(self.eval_breaker, breaker);
            self.count_backedge();
            self.asm.jump(taken);
            self.asm.bind(skip);
            taken = edge;
        }
        if jump_if {
            self.asm.jump_if_nonzero(Reg::R0, taken);
        } else {
            self.asm.jump_if_zero(Reg::R0, taken);
        }
        Some(Step::Next)
    }

    fn gen_compare(&mut self, pos: usize, arg: u32, state: &mut State) -> Option<Step> {
        let op = if cpython::VERSION >= (3, 12) { arg >> 4 } else { arg };
        let cond = match op {
            0 => Cond::Lt,
            1 => Cond::Le,
            2 => Cond::Eq,
            3 => Cond::Ne,
            4 => Cond::Gt,
            5 => Cond::Ge,
            _ => return None,
        };
        let d = Self::depth(state) as usize;
        let (a, b) = (state.stack[d - 2], state.stack[d - 1]);
        let np = matches!(a, Slot::F(FKind::NpF64, ..)) || matches!(b, Slot::F(FKind::NpF64, ..));
        let p = (d - 2) as u32;
        let home = self.layout.stack(p);
        if let (Some(kind), true) = (Self::numpy_int_kind(a, b), matches!(a, Slot::N(..)) || matches!(b, Slot::N(..))) {
            // numpy integer scalars compare exactly and give numpy.bool_.
            let pre = state.clone();
            let exit = self.exit(pos, &pre, true, "numpy_int_overflow");
            self.load_numpy_int_operands(kind, a, b, exit);
            self.asm.i_set_if(cond, Reg::R0, Reg::R1, Reg::R2);
            self.ss_i(home, Reg::R0);
            self.uses_numpy = true;
            state.stack.truncate(d - 2);
            state.stack.push(Slot::B(BKind::NpBool, Home::Spill(home)));
            return Some(Step::Next);
        }
        match (a, b) {
            (Slot::I(ha, _), Slot::I(hb, _)) => {
                self.load_i(Reg::R1, ha);
                self.load_i(Reg::R2, hb);
                self.asm.i_set_if(cond, Reg::R0, Reg::R1, Reg::R2);
            }
            (Slot::F(..), Slot::F(..)) | (Slot::F(..), Slot::I(..)) | (Slot::I(..), Slot::F(..)) => {
                // A Python float against an int compares exactly in CPython: only ints a
                // double represents exactly may be converted.
                if !np {
                    let pre = state.clone();
                    for slot in [a, b] {
                        if let Slot::I(h, _) = slot {
                            let exit = self.exit(pos, &pre, true, "int_float_compare");
                            self.load_i(Reg::R1, h);
                            self.asm.jump_if_abs_above(Reg::R1, 1 << 53, exit);
                        }
                    }
                }
                self.load_f(FReg::F0, &a)?;
                self.load_f(FReg::F1, &b)?;
                self.asm.f_set_if(cond, Reg::R0, FReg::F0, FReg::F1);
            }
            _ => return None,
        }
        self.ss_i(home, Reg::R0);
        state.stack.truncate(d - 2);
        state.stack.push(Slot::B(if np { BKind::NpBool } else { BKind::Bool }, Home::Spill(home)));
        Some(Step::Next)
    }

    fn gen_binary_op(&mut self, pos: usize, arg: u32, state: &mut State) -> Option<Step> {
        #[derive(PartialEq, Clone, Copy)]
        enum B {
            Add,
            Sub,
            Mul,
            Div,
            Pow,
            FloorDiv,
            Mod,
            Bits(IOp),
        }
        let op = match arg {
            2 | 15 => B::FloorDiv,
            6 | 19 => B::Mod,
            0 | 13 => B::Add,
            10 | 23 => B::Sub,
            5 | 18 => B::Mul,
            11 | 24 => B::Div,
            8 | 21 => B::Pow,
            1 | 14 => B::Bits(IOp::And),
            7 | 20 => B::Bits(IOp::Or),
            12 | 25 => B::Bits(IOp::Xor),
            _ => return None,
        };
        let d = Self::depth(state) as usize;
        let (a, b) = (state.stack[d - 2], state.stack[d - 1]);
        let p = (d - 2) as u32;
        let home = self.layout.stack(p);
        let pre = state.clone();
        let np_int = |s: &Slot| matches!(s, Slot::N(NKind::I64 | NKind::I32, ..));
        if np_int(&a) || np_int(&b) {
            // numpy integer scalars, under numpy 2's rules only.
            if !self.numpy_nep50() {
                return None;
            }
            let iop = match op {
                B::Add => Some(IOp::Add),
                B::Sub => Some(IOp::Sub),
                B::Mul => Some(IOp::Mul),
                B::Bits(bit_op) => Some(bit_op),
                B::Div => None,
                B::Pow | B::FloorDiv | B::Mod => return None,
            };
            if let Some(kind) = Self::numpy_int_kind(a, b) {
                return self.gen_numpy_int_arith(pos, iop, kind, a, b, state);
            }
            // With a float: numpy converts the integer to float64 (C's cast) and the result
            // is a numpy.float64, computed below as for numpy.float64 operands.
            if iop.is_none() || matches!(op, B::Bits(_)) || matches!(a, Slot::N(NKind::F32, ..)) || matches!(b, Slot::N(NKind::F32, ..)) {
                return None;
            }
        }
        let numeric = |s: &Slot| matches!(s, Slot::F(..) | Slot::I(..) | Slot::N(NKind::I64 | NKind::I32, ..));
        if !numeric(&a) || !numeric(&b) {
            return None;
        }
        // int op int stays int (true division excepted).
        if let (Slot::I(ha, _), Slot::I(hb, _)) = (a, b) {
            let iop = match op {
                B::Add => IOp::Add,
                B::Sub => IOp::Sub,
                B::Mul => IOp::Mul,
                B::Div => {
                    let exit = self.exit(pos, &pre, true, "int_true_divide");
                    self.load_i(Reg::R1, ha);
                    self.load_i(Reg::R2, hb);
                    self.asm.jump_if_zero(Reg::R2, exit);
                    self.asm.jump_if_abs_above(Reg::R1, 1 << 53, exit);
                    self.asm.jump_if_abs_above(Reg::R2, 1 << 53, exit);
                    self.asm.f_from_i64(FReg::F0, Reg::R1);
                    self.asm.f_from_i64(FReg::F1, Reg::R2);
                    self.asm.f_arith(FOp::Div, FReg::F0, FReg::F1);
                    self.ss_f(home, FReg::F0);
                    state.stack.truncate(d - 2);
                    state.stack.push(Slot::F(FKind::Float, Home::Spill(home), Origin::Fresh));
                    return Some(Step::Next);
                }
                B::Pow => return self.gen_int_power(pos, ha, hb, state),
                B::FloorDiv | B::Mod => return self.gen_int_floor_div(pos, op == B::Mod, ha, hb, state),
                B::Bits(bit_op) => bit_op,
            };
            let exit = self.exit(pos, &pre, true, "int_overflow");
            self.load_i(Reg::R1, ha);
            self.load_i(Reg::R2, hb);
            self.asm.i_arith(iop, Reg::R1, Reg::R2, exit);
            self.ss_i(home, Reg::R1);
            state.stack.truncate(d - 2);
            state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
            return Some(Step::Next);
        }
        if matches!(op, B::Bits(_) | B::FloorDiv | B::Mod) {
            return None; // only ints have bitwise operators; float // and % are not compiled
        }
        let kind = if matches!(a, Slot::F(FKind::NpF64, ..) | Slot::N(..)) || matches!(b, Slot::F(FKind::NpF64, ..) | Slot::N(..)) {
            FKind::NpF64
        } else {
            FKind::Float
        };
        if kind == FKind::NpF64 {
            self.uses_numpy = true;
        }
        let exit = self.exit(pos, &pre, true, "float_special");
        match op {
            B::Pow => {
                // Only a float base: int ** float is float.__rpow__ with its own rules.
                if !matches!(a, Slot::F(..)) {
                    return None;
                }
                // Both CPython's float_pow and numpy's scalar power call the C library's pow,
                // even for an exponent of 2: on this machine's glibc pow(x, 2.0) differs from
                // x * x in the last bit for some x, so the multiply would not be exact.
                self.load_f(FReg::F0, &a)?;
                let squaring = matches!(b, Slot::I(Home::Imm(2), _))
                    || matches!(b, Slot::F(_, Home::Imm(bits), _) if bits == 2.0f64.to_bits());
                let square_root = matches!(b, Slot::F(_, Home::Imm(bits), _) if bits == 0.5f64.to_bits());
                let cubing = matches!(b, Slot::I(Home::Imm(3), _))
                    || matches!(b, Slot::F(_, Home::Imm(bits), _) if bits == 3.0f64.to_bits());
                // `done`: pow's result (or x itself), checked below as pow's is; `proved`: a
                // shortcut's result, finite and normal by its range test.
                let done = self.asm.new_label();
                let proved = self.asm.new_label();
                if crate::libm::pow_shortcuts() {
                    // A negative Python float base: float_pow returns pow(-x, y), negated
                    // for an odd y. Each shortcut's answer for -x is its answer for x, negated
                    // for an odd y, so it agrees there too (the square root refuses -x).
                    if squaring {
                        self.exact_square(proved);
                    } else if square_root {
                        self.exact_sqrt(proved);
                    } else if cubing {
                        self.exact_cube(proved);
                    } else if let Slot::I(hb @ Home::Spill(_), _) = b {
                        self.small_int_power(hb, done, proved);
                    }
                }
                if kind == FKind::Float {
                    // CPython's float_pow special-cases zero and negative bases.
                    self.asm.f_load_bits(FReg::F2, 0);
                    self.asm.f_jump_if(Cond::Le, FReg::F0, FReg::F2, exit);
                }
                self.load_f(FReg::F1, &b)?;
                self.flush(false);
                self.asm.call_f(pow as usize);
                self.reload(false);
                self.asm.bind(done);
                self.asm.jump_if_f_nonfinite(FReg::F0, exit);
                if kind == FKind::Float {
                    // float_pow reports underflow through errno on some C libraries.
                    self.asm.jump_if_f_tiny(FReg::F0, exit);
                }
                self.asm.bind(proved);
            }
            _ => {
                self.load_f(FReg::F0, &a)?;
                let right = self.f_operand(&b, FReg::F1)?;
                let fop = match op {
                    B::Add => FOp::Add,
                    B::Sub => FOp::Sub,
                    B::Mul => FOp::Mul,
                    _ => {
                        self.asm.jump_if_f_zero(right, exit);
                        FOp::Div
                    }
                };
                self.asm.f_arith(fop, FReg::F0, right);
                if kind == FKind::Float && fop != FOp::Div {
                    // Python's float + - * never raise or warn: an infinity or NaN result is
                    // a value, left unchecked like a loaded one until something else uses it
                    // (then the exit hands it over as it is). numpy's warn: checked here.
                    self.loaded_unchecked = true;
                } else {
                    self.asm.jump_if_f_nonfinite(FReg::F0, exit);
                }
            }
        }
        self.ss_f(home, FReg::F0);
        state.stack.truncate(d - 2);
        state.stack.push(Slot::F(kind, Home::Spill(home), Origin::Fresh));
        Some(Step::Next)
    }

    /// Python's `a // b` or `a % b` on ints: floor division (the remainder takes the divisor's
    /// sign); exits on a zero divisor and on the one quotient beyond 64 bits.
    fn gen_int_floor_div(&mut self, pos: usize, modulo: bool, ha: Home, hb: Home, state: &mut State) -> Option<Step> {
        let d = Self::depth(state) as usize;
        let home = self.layout.stack((d - 2) as u32);
        let pre = state.clone();
        let exit = self.exit(pos, &pre, true, "int_divide");
        self.load_i(Reg::R1, ha);
        self.load_i(Reg::R3, hb);
        self.asm.jump_if_zero(Reg::R3, exit);
        let fits = self.asm.new_label();
        self.asm.jump_if_not_equal_imm(Reg::R3, -1i64 as u64, fits);
        self.asm.jump_if_equal_imm(Reg::R1, i64::MIN as u64, exit);
        self.asm.bind(fits);
        self.asm.i_div_rem(Reg::R1, Reg::R3);
        // C truncates; Python floors: a nonzero remainder of the other sign than the divisor
        // moves the quotient down by one and the remainder up by the divisor.
        let done = self.asm.new_label();
        self.asm.jump_if_zero(Reg::R3, done);
        self.load_i(Reg::R2, hb);
        self.asm.mov(Reg::R0, Reg::R3);
        self.asm.i_arith(IOp::Xor, Reg::R0, Reg::R2, exit);
        self.asm.i_jump_if_imm(Cond::Ge, Reg::R0, 0, done);
        self.asm.i_add_imm(Reg::R1, -1);
        self.asm.i_add(Reg::R3, Reg::R2);
        self.asm.bind(done);
        self.ss_i(home, if modulo { Reg::R3 } else { Reg::R1 });
        state.stack.truncate(d - 2);
        state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
        Some(Step::Next)
    }

    /// `a ** e` on ints with a constant exponent 0..=64: square-and-multiply, exiting where the
    /// result outgrows 64 bits (a square is only formed when a higher exponent bit needs it,
    /// so no intermediate exceeds the result). Other exponents stay in the interpreter (a
    /// negative one gives a float).
    fn gen_int_power(&mut self, pos: usize, ha: Home, hb: Home, state: &mut State) -> Option<Step> {
        let Home::Imm(e) = hb else { return None };
        let e = e as i64;
        if !(0..=64).contains(&e) {
            return None;
        }
        let d = Self::depth(state) as usize;
        let home = self.layout.stack((d - 2) as u32);
        let pre = state.clone();
        let exit = self.exit(pos, &pre, true, "int_overflow");
        self.asm.load_imm(Reg::R1, 1);
        self.load_i(Reg::R2, ha);
        let mut rest = e;
        while rest > 0 {
            if rest & 1 == 1 {
                self.asm.i_arith(IOp::Mul, Reg::R1, Reg::R2, exit);
            }
            rest >>= 1;
            if rest > 0 {
                self.asm.mov(Reg::R3, Reg::R2);
                self.asm.i_arith(IOp::Mul, Reg::R2, Reg::R3, exit);
            }
        }
        self.ss_i(home, Reg::R1);
        state.stack.truncate(d - 2);
        state.stack.push(Slot::I(Home::Spill(home), Origin::Fresh));
        Some(Step::Next)
    }

    /// Stack slots placed at new positions (COPY, SWAP), their values moved into the homes of
    /// those positions, since an operation's result overwrites the homes of its position.
    /// All values are read before any is written. None for slots that cannot move.
    fn rehome(&mut self, moves: &[(Slot, u32)]) -> Option<Vec<Slot>> {
        enum V {
            F(FReg, Home),
            I(Reg, Home),
        }
        let fregs = [FReg::F0, FReg::F1];
        let iregs = [Reg::R0, Reg::R1];
        let pregs = [Reg::R2, Reg::R3];
        let mut plan = Vec::new();
        for (n, &(slot, _)) in moves.iter().enumerate() {
            let value = match slot {
                Slot::F(_, h @ Home::Spill(_), _) | Slot::N(NKind::F32, h @ Home::Spill(_), _) => Some(V::F(fregs[n], h)),
                Slot::I(h @ Home::Spill(_), _) | Slot::N(_, h @ Home::Spill(_), _) | Slot::B(_, h @ Home::Spill(_)) => Some(V::I(iregs[n], h)),
                Slot::F(..) | Slot::I(..) | Slot::N(..) | Slot::B(..) => None,
                Slot::LocalObj(..) | Slot::Builtin(..) | Slot::Null | Slot::ConstObj(_) => None,
                _ => return None,
            };
            let ptr = match slot {
                Slot::F(_, _, Origin::Ptr(q)) | Slot::I(_, Origin::Ptr(q)) | Slot::N(_, _, Origin::Ptr(q)) => Some(q),
                _ => None,
            };
            plan.push((value, ptr));
        }
        for (n, (value, ptr)) in plan.iter().enumerate() {
            match value {
                Some(V::F(r, h)) => {
                    let _ = self.load_f(*r, &Slot::F(FKind::Float, *h, Origin::Fresh));
                }
                Some(V::I(r, h)) => self.load_i(*r, *h),
                None => {}
            }
            if let Some(q) = ptr {
                self.sl_i(pregs[n], *q);
            }
        }
        let mut out = Vec::new();
        for (n, (value, ptr)) in plan.iter().enumerate() {
            let (slot, pos) = moves[n];
            let home = Home::Spill(self.layout.stack(pos));
            match value {
                Some(V::F(r, _)) => self.ss_f(self.layout.stack(pos), *r),
                Some(V::I(r, _)) => self.ss_i(self.layout.stack(pos), *r),
                None => {}
            }
            let new_ptr = self.layout.stack_ptr(pos);
            let origin = |o: Origin| -> Origin {
                match (o, ptr) {
                    (Origin::Ptr(_), Some(_)) => Origin::Ptr(new_ptr),
                    _ => o,
                }
            };
            if ptr.is_some() {
                self.ss_i(new_ptr, pregs[n]);
            }
            let moved = value.is_some();
            out.push(match slot {
                Slot::F(k, h, o) => Slot::F(k, if moved { home } else { h }, origin(o)),
                Slot::I(h, o) => Slot::I(if moved { home } else { h }, origin(o)),
                Slot::N(k, h, o) => Slot::N(k, if moved { home } else { h }, origin(o)),
                Slot::B(k, h) => Slot::B(k, if moved { home } else { h }),
                other => other,
            });
        }
        Some(out)
    }

    /// `-x` for numbers: ints exit where the negation outgrows their type; doubles negate
    /// exactly (a multiplication by -1 also flips the sign of zero).
    fn gen_negative(&mut self, pos: usize, state: &mut State) -> Option<Step> {
        let d = Self::depth(state) as usize;
        let top = *state.stack.last()?;
        let home = self.layout.stack((d - 1) as u32);
        let h = Home::Spill(home);
        let pre = state.clone();
        let result = match top {
            Slot::I(hx, _) | Slot::N(NKind::I64 | NKind::I32, hx, _) => {
                let exit = self.exit(pos, &pre, true, "int_overflow");
                self.asm.load_imm(Reg::R1, 0);
                self.load_i(Reg::R2, hx);
                self.asm.i_arith(IOp::Sub, Reg::R1, Reg::R2, exit);
                if matches!(top, Slot::N(NKind::I32, ..)) {
                    self.asm.jump_if_not_i32(Reg::R1, exit);
                }
                self.ss_i(home, Reg::R1);
                match top {
                    Slot::N(kind, ..) => Slot::N(kind, h, Origin::Fresh),
                    _ => Slot::I(h, Origin::Fresh),
                }
            }
            Slot::F(..) | Slot::N(NKind::F32, ..) => {
                self.load_f(FReg::F0, &top)?;
                self.asm.f_load_bits(FReg::F1, (-1.0f64).to_bits());
                self.asm.f_arith(FOp::Mul, FReg::F0, FReg::F1);
                self.ss_f(home, FReg::F0);
                match top {
                    Slot::F(kind, ..) => Slot::F(kind, h, Origin::Fresh),
                    _ => Slot::N(NKind::F32, h, Origin::Fresh),
                }
            }
            _ => return None,
        };
        state.stack.pop();
        state.stack.push(result);
        Some(Step::Next)
    }

    /// numpy 2 (NEP 50) promotion applies: the only rules tier 2 follows for numpy integer
    /// scalars.
    fn numpy_nep50(&self) -> bool {
        let py = unsafe { Python::assume_attached() };
        super::numpy::get(py).is_some_and(|np| np.nep50)
    }

    /// The numpy integer type of `a op b` when both are integers and one a numpy integer
    /// scalar: int64 if either is, else int32 (a Python int takes the numpy operand's type).
    fn numpy_int_kind(a: Slot, b: Slot) -> Option<NKind> {
        let int = |s: &Slot| matches!(s, Slot::I(..) | Slot::N(NKind::I64 | NKind::I32, ..));
        if !int(&a) || !int(&b) {
            return None;
        }
        Some(if matches!(a, Slot::N(NKind::I64, ..)) || matches!(b, Slot::N(NKind::I64, ..)) { NKind::I64 } else { NKind::I32 })
    }

    /// Load two integer operands into R1 and R2 for a numpy integer operation of `kind`: a
    /// Python int outside int32 makes numpy raise OverflowError with an int32 operand, so it
    /// exits.
    fn load_numpy_int_operands(&mut self, kind: NKind, a: Slot, b: Slot, exit: Label) {
        for (reg, slot) in [(Reg::R1, a), (Reg::R2, b)] {
            let (Slot::I(h, _) | Slot::N(_, h, _)) = slot else { unreachable!("integer operands") };
            self.load_i(reg, h);
            if kind == NKind::I32 && matches!(slot, Slot::I(..)) {
                self.asm.jump_if_not_i32(reg, exit);
            }
        }
    }

    /// `a op b` on numpy integer scalars (NEP 50): + - * & | ^ in the result's type, exiting
    /// where numpy would wrap around (it warns: the interpreter's job); `iop` None is true
    /// division, both converted to double by C's cast.
    fn gen_numpy_int_arith(&mut self, pos: usize, iop: Option<IOp>, kind: NKind, a: Slot, b: Slot, state: &mut State) -> Option<Step> {
        let d = Self::depth(state) as usize;
        let home = self.layout.stack((d - 2) as u32);
        let pre = state.clone();
        let exit = self.exit(pos, &pre, true, "numpy_int_overflow");
        self.load_numpy_int_operands(kind, a, b, exit);
        let result = match iop {
            Some(iop) => {
                self.asm.i_arith(iop, Reg::R1, Reg::R2, exit);
                if kind == NKind::I32 {
                    self.asm.jump_if_not_i32(Reg::R1, exit);
                }
                self.ss_i(home, Reg::R1);
                Slot::N(kind, Home::Spill(home), Origin::Fresh)
            }
            None => {
                // numpy warns on a zero divisor.
                self.asm.jump_if_zero(Reg::R2, exit);
                self.asm.f_from_i64(FReg::F0, Reg::R1);
                self.asm.f_from_i64(FReg::F1, Reg::R2);
                self.asm.f_arith(FOp::Div, FReg::F0, FReg::F1);
                self.ss_f(home, FReg::F0);
                Slot::F(FKind::NpF64, Home::Spill(home), Origin::Fresh)
            }
        };
        self.uses_numpy = true;
        state.stack.truncate(d - 2);
        state.stack.push(result);
        Some(Step::Next)
    }

    // --- pow shortcuts ---------------------------------------------------------------------
    //
    // `x ** 2`, `x ** 3`, `x ** 0.5` and `x ** n` must give the C library's pow(x, y) to the
    // bit. Each shortcut computes a candidate c (a double) and the exact result v = x^y's
    // distance from it, and uses c only when the C library's pow provably returns c; otherwise
    // it falls through to call pow. `crate::libm` turns them all off unless the C library is
    // glibc >= 2.28, whose pow (sysdeps/ieee754/dbl-64/e_pow.c) documents its error:
    //
    //     Worst-case error: 0.54 ULP (~= ulperr_exp + 1024*Ln2*relerr_log*2^53)
    //     relerr_log: 1.3 * 2^-68 (Relative error of log, 1.5 * 2^-68 without fma)
    //     ulperr_exp: 0.509 ULP (ULP error of exp, 0.511 ULP without fma)
    //
    // 1024*Ln2 there is the largest |y ln x| of a finite result: the log's relative error
    // becomes an error of |y ln x| * relerr_log in the exponent, so (with the constants without
    // fma, the larger ones) pow's error is at most 0.511 + |y ln x| * 1.5 * 2^-68 * 2^53 =
    // 0.511 + |ln v| * 1.5 * 2^-15 ulp, as y ln x = ln v. The exp's 0.5 of it is its final
    // rounding: pow returns RN(w) for a w within E = 0.011 + |ln v| * 1.5 * 2^-15 ulp of v.
    //
    // The proof. Let u be the gap between c and its neighbour on v's side (below a power of
    // two c, half the gap above it), and |v - c| <= m * u. v lies between c and that
    // neighbour, so an ulp at v is u, and |w - c| <= (m + E) * u, below u/2 whenever
    // m < 1/2 - E: w lies in c's rounding interval and pow returns c (should w be on c's other
    // side, it is within E * u of c, E < 1/4, and that side's gap is at least u/2). That is
    // the documented form d < 1 - 0.54 with the error bound narrowed to the result's
    // magnitude:
    //
    // - |v| in [2^-128, 2^128] (up to a rounding of the range-tested value): |ln v| < 88.73,
    //   E < 0.011 + 0.00407 = 0.01507, m < 0.48493; keeping 0.005 of it unused, m = 0.4795
    //   (`NARROW_MARGIN`): about 4.1% of random candidates fall through to pow;
    // - |v| in [2^-800, 2^800]: |ln v| < 554.6, E < 0.03639, m < 0.46361; m = 0.45
    //   (`WIDE_MARGIN`, with 0.0136 unused): about 10% fall through.
    //
    // Each shortcut tests the narrow range first and the wide one only when that fails, so
    // data within 2^±128 pays one range test. The margin test is one rounding: with h the
    // (computed) v - c and K = 0.5 / m, t = RN(c + h*K) equals c iff |h*K| <= u/2 (c's
    // rounding interval on h's side; a tie goes to c only if c is even, a case that has
    // |h| = m*u, still inside the proof), i.e. iff |h| <= m*u. With a fused multiply-add the
    // product is exact; without one (x86_64 before FMA3), RN(h*K) moves the limit by a
    // relative 2^-53, like K's own rounding and the tiny errors in computing h (each below
    // 2^-50 u): the unused 0.005 covers them all.

    /// The test above: jump to `slow` unless the candidate in `candidate` is pow's answer,
    /// given `diff` (clobbered) with `diff * scale` the distance v - c (up to a relative 2^-50).
    fn prove_candidate(&mut self, candidate: FReg, diff: FReg, scale: f64, margin: f64, slow: Label) {
        let k = scale * 0.5 / margin;
        if Assembler::has_fma() {
            self.asm.f_fused_mul_add_const(diff, k, candidate);
        } else {
            self.asm.f_arith_const(FOp::Mul, diff, k);
            self.asm.f_arith(FOp::Add, diff, candidate);
        }
        self.asm.f_jump_if(Cond::Ne, diff, candidate, slow);
    }

    /// `pow(x, 2.0)` for x in F0 without calling pow, when that is provably the same double:
    /// jumps to `proved` with the result in F0, or falls through (x back in F0) to call pow.
    /// The candidate is p = x*x (F0; x is kept in F1), and v - p = x*x - p exactly (one fused
    /// multiply-subtract, or Dekker's product). The range test on p comes first: within
    /// 2^-800 <= p < 2^800 nothing in the error's computation overflows or underflows.
    fn exact_square(&mut self, proved: Label) {
        let slow = self.asm.new_label();
        let wide = self.asm.new_label();
        self.asm.f_mov(FReg::F1, FReg::F0);
        self.asm.f_arith(FOp::Mul, FReg::F0, FReg::F1);
        for (lo, hi, margin, outside) in [(-128, 128, NARROW_MARGIN, wide), (-800, 800, WIDE_MARGIN, slow)] {
            self.asm.jump_unless_binades(FReg::F0, lo, hi, outside);
            self.square_error();
            self.prove_candidate(FReg::F0, FReg::F4, 1.0, margin, slow);
            self.asm.jump(proved);
            if outside == wide {
                self.asm.bind(wide);
            }
        }
        self.asm.bind(slow);
        self.asm.f_mov(FReg::F0, FReg::F1);
    }

    /// F4 = x*x - p exactly, for x in F1 and p = x*x rounded in F0 (clobbers F2, F3, F5).
    fn square_error(&mut self) {
        self.asm.f_mov(FReg::F4, FReg::F0);
        if Assembler::has_fma() {
            self.asm.f_fused_mul_sub(FReg::F4, FReg::F1, FReg::F1);
            return;
        }
        // Dekker: split x = hi + lo with hi holding 26 bits;
        // err = ((hi*hi - p) + 2*hi*lo) + lo*lo, exactly x*x - p.
        self.asm.f_mov(FReg::F2, FReg::F1);
        self.asm.f_arith_const(FOp::Mul, FReg::F2, 134217729.0);
        self.asm.f_mov(FReg::F3, FReg::F2);
        self.asm.f_arith(FOp::Sub, FReg::F3, FReg::F1);
        self.asm.f_arith(FOp::Sub, FReg::F2, FReg::F3); // hi
        self.asm.f_mov(FReg::F3, FReg::F1);
        self.asm.f_arith(FOp::Sub, FReg::F3, FReg::F2); // lo
        self.asm.f_mov(FReg::F4, FReg::F2);
        self.asm.f_arith(FOp::Mul, FReg::F4, FReg::F2);
        self.asm.f_arith(FOp::Sub, FReg::F4, FReg::F0);
        self.asm.f_mov(FReg::F5, FReg::F2);
        self.asm.f_arith(FOp::Mul, FReg::F5, FReg::F3);
        self.asm.f_arith(FOp::Add, FReg::F5, FReg::F5);
        self.asm.f_arith(FOp::Add, FReg::F4, FReg::F5);
        self.asm.f_mov(FReg::F5, FReg::F3);
        self.asm.f_arith(FOp::Mul, FReg::F5, FReg::F3);
        self.asm.f_arith(FOp::Add, FReg::F4, FReg::F5);
    }

    /// `x ** n` for x in F0 and an int exponent known only at run time (a loop counter, say):
    /// n = 0 gives 1.0 (C's pow(x, 0) is 1 for every x, NaN included, and float_pow returns 1.0
    /// first), n = 1 gives x (to `done`, checked as pow's result; pow(x, 1.0) is x, v = x
    /// being a double), n = 2 and 3 as `exact_square` and `exact_cube` do; anything else, or a
    /// power that cannot be proved, falls through to pow.
    fn small_int_power(&mut self, exponent: Home, done: Label, proved: Label) {
        let not_zero = self.asm.new_label();
        let not_one = self.asm.new_label();
        let not_two = self.asm.new_label();
        let not_three = self.asm.new_label();
        self.load_i(Reg::R1, exponent);
        self.asm.i_jump_if_imm(Cond::Ne, Reg::R1, 0, not_zero);
        self.asm.f_load_bits(FReg::F0, 1.0f64.to_bits());
        self.asm.jump(proved);
        self.asm.bind(not_zero);
        self.asm.i_jump_if_imm(Cond::Ne, Reg::R1, 1, not_one);
        self.asm.jump(done);
        self.asm.bind(not_one);
        self.asm.i_jump_if_imm(Cond::Ne, Reg::R1, 2, not_two);
        self.exact_square(proved);
        self.asm.jump(not_three); // unproved square: pow
        self.asm.bind(not_two);
        self.asm.i_jump_if_imm(Cond::Ne, Reg::R1, 3, not_three);
        self.exact_cube(proved);
        self.asm.bind(not_three);
    }

    /// `x ** 3` for x in F0 without calling pow, when that gives pow's answer (to `proved`,
    /// or falls through to pow with x back in F0): with p = x*x (F2) and c = p*x rounded
    /// twice (F3), the exact cube is c + e, e = fma(x, x, -p)*x + fma(p, x, -c) (both fused
    /// residuals exact, the product's rounding below 2^-52 ulp). Two roundings may leave c an
    /// ulp off, so the candidate is r = c + e rounded (F0), and v - r = e - (r - c) (r - c
    /// exact). The range test is on p: p < 2^85 keeps |v| below 2^127.5, p < 2^500 below
    /// 2^750, where the residuals are exact. Needs a fused multiply-subtract.
    fn exact_cube(&mut self, proved: Label) {
        if !Assembler::has_fma() {
            return;
        }
        let slow = self.asm.new_label();
        let wide = self.asm.new_label();
        self.asm.f_mov(FReg::F1, FReg::F0);
        self.asm.f_mov(FReg::F2, FReg::F0);
        self.asm.f_arith(FOp::Mul, FReg::F2, FReg::F1);
        for (lo, hi, margin, outside) in [(-85, 85, NARROW_MARGIN, wide), (-500, 500, WIDE_MARGIN, slow)] {
            self.asm.jump_unless_binades(FReg::F2, lo, hi, outside);
            // e1 = x*x - p (F4), c = p*x (F3), e2 = p*x - c (F5).
            self.asm.f_mov(FReg::F4, FReg::F2);
            self.asm.f_fused_mul_sub(FReg::F4, FReg::F1, FReg::F1);
            self.asm.f_mov(FReg::F3, FReg::F2);
            self.asm.f_arith(FOp::Mul, FReg::F3, FReg::F1);
            self.asm.f_mov(FReg::F5, FReg::F3);
            self.asm.f_fused_mul_sub(FReg::F5, FReg::F2, FReg::F1);
            // e = e1*x + e2 (F4); r = c + e (F0); v - r = e - (r - c) (F4).
            self.asm.f_arith(FOp::Mul, FReg::F4, FReg::F1);
            self.asm.f_arith(FOp::Add, FReg::F4, FReg::F5);
            self.asm.f_mov(FReg::F0, FReg::F3);
            self.asm.f_arith(FOp::Add, FReg::F0, FReg::F4);
            self.asm.f_mov(FReg::F5, FReg::F0);
            self.asm.f_arith(FOp::Sub, FReg::F5, FReg::F3);
            self.asm.f_arith(FOp::Sub, FReg::F4, FReg::F5);
            self.prove_candidate(FReg::F0, FReg::F4, 1.0, margin, slow);
            self.asm.jump(proved);
            if outside == wide {
                self.asm.bind(wide);
            }
        }
        self.asm.bind(slow);
        self.asm.f_mov(FReg::F0, FReg::F1);
    }

    /// `x ** 0.5` for x in F0 without calling pow, when that gives pow's own answer (to
    /// `proved`, or falls through to pow with x back in F0): the candidate is s = sqrt(x)
    /// (F0; x is kept in F1), correctly rounded; r = s*s - x is exact (one fused operation,
    /// the residual of a correctly rounded root being a double), and v - s = -r / (s + v) =
    /// -(r/s)/2 up to a relative 2^-51. The range test is on s (s < 2^128, then 2^400), and
    /// also sends zero, -0.0 (pow gives +0.0, sqrt -0.0), negatives (NaN), subnormals and
    /// infinities to pow. Needs a fused multiply-subtract.
    fn exact_sqrt(&mut self, proved: Label) {
        if !Assembler::has_fma() {
            return; // without a fused multiply-subtract, always pow
        }
        let slow = self.asm.new_label();
        let wide = self.asm.new_label();
        self.asm.f_mov(FReg::F1, FReg::F0);
        self.asm.f_sqrt(FReg::F0);
        for (lo, hi, margin, outside) in [(-128, 128, NARROW_MARGIN, wide), (-400, 400, WIDE_MARGIN, slow)] {
            self.asm.jump_unless_binades(FReg::F0, lo, hi, outside);
            self.asm.f_mov(FReg::F4, FReg::F1);
            self.asm.f_fused_mul_sub(FReg::F4, FReg::F0, FReg::F0);
            self.asm.f_arith(FOp::Div, FReg::F4, FReg::F0);
            self.prove_candidate(FReg::F0, FReg::F4, -0.5, margin, slow);
            self.asm.jump(proved);
            if outside == wide {
                self.asm.bind(wide);
            }
        }
        self.asm.bind(slow);
        self.asm.f_mov(FReg::F0, FReg::F1);
    }

    /// Address of an array element into S0, checking every index (negative ones wrap, as
    /// numpy does); `exit` on an index out of bounds.
    fn array_element_address(&mut self, k: u32, indices: &[Home], exit: Label) -> Option<()> {
        let c = self.cached_of(k)?;
        self.sl_i(Reg::S0, self.layout.cache(c.data()));
        for (axis, home) in indices.iter().enumerate() {
            let axis = axis as u32;
            if let Home::Imm(index) = *home {
                if let Ok(index @ 0..=0x7fff_ffff) = i32::try_from(index as i64) {
                    // A constant index (`points[i, 0]`): one compare with the dimension.
                    self.sl_i(Reg::R1, self.layout.cache(c.dim(axis)));
                    self.asm.i_jump_if_imm(Cond::Le, Reg::R1, index, exit);
                    if index != 0 {
                        self.sl_i(Reg::R2, self.layout.cache(c.stride(axis)));
                        if index != 1 {
                            self.asm.load_imm(Reg::R0, index as u64);
                            self.asm.i_mul(Reg::R2, Reg::R0);
                        }
                        self.asm.i_add(Reg::S0, Reg::R2);
                    }
                    continue;
                }
            }
            self.load_i(Reg::R0, *home);
            self.bounds_check(c.dim(axis), exit);
            self.sl_i(Reg::R2, self.layout.cache(c.stride(axis)));
            self.asm.i_mul(Reg::R0, Reg::R2);
            self.asm.i_add(Reg::S0, Reg::R0);
        }
        Some(())
    }

    /// The index operand of a subscript as per-axis homes, for an array of `ndim` dims.
    fn index_homes(&self, index: Slot, ndim: u8) -> Option<Vec<Home>> {
        match (index, ndim) {
            (Slot::I(h, _), 1) => Some(vec![h]),
            (Slot::Tuple(n, items), _) if n == ndim => Some(items[..n as usize].iter().map(|&(h, _)| h).collect()),
            _ => None,
        }
    }

    fn gen_subscr(&mut self, pos: usize, state: &mut State) -> Option<Step> {
        let d = Self::depth(state) as usize;
        let (container, index) = (state.stack[d - 2], state.stack[d - 1]);
        let p = (d - 2) as u32;
        let pre = state.clone();
        match container {
            Slot::LocalObj(k, EntryTy::Array { ndim, dtype, .. }) => {
                let indices = self.index_homes(index, ndim)?;
                let memo = if dtype == Dtype::F64 { self.memo_key(k, &indices) } else { None };
                if let Some(m) = memo.filter(|m| state.memos.contains(m)) {
                    // Loaded before on this path, unchanged since: the same double (left
                    // unchecked, as a load is).
                    let home = Home::Spill(self.layout.memo(m as u32));
                    self.loaded_unchecked = true;
                    state.stack.truncate(d - 2);
                    state.stack.push(Slot::F(FKind::NpF64, home, Origin::Fresh));
                    return Some(Step::Next);
                }
                let exit = self.exit(pos, &pre, true, "array_index");
                self.array_element_address(k, &indices, exit)?;
                let element = match memo {
                    Some(m) => {
                        let slot = self.layout.memo(m as u32);
                        self.asm.f_load_mem(FReg::F0, Reg::S0, 0);
                        self.loaded_unchecked = true;
                        self.ss_f(slot, FReg::F0);
                        state.memos.push(m);
                        state.memos.sort_unstable();
                        Slot::F(FKind::NpF64, Home::Spill(slot), Origin::Fresh)
                    }
                    None => self.load_element(dtype, p, None),
                };
                self.uses_numpy = true;
                state.stack.truncate(d - 2);
                state.stack.push(element);
                Some(Step::Next)
            }
            Slot::LocalObj(k, ty @ (EntryTy::List | EntryTy::Tuple)) => {
                let Slot::I(h, _) = index else { return None };
                // Items are guarded to one type, chosen from the items there now.
                let ints = unsafe { self.items_are_ints(k) };
                let exit = self.exit(pos, &pre, true, "list_item");
                let c = self.cached_of(k)?;
                self.load_i(Reg::R0, h);
                self.bounds_check(c.size(), exit);
                self.asm.load_imm(Reg::R2, 8);
                self.asm.i_mul(Reg::R0, Reg::R2);
                let _ = ty;
                self.sl_i(Reg::R1, self.layout.cache(c.items()));
                self.asm.i_add(Reg::R1, Reg::R0);
                self.asm.load_field(Reg::R1, Reg::R1, 0); // the item
                let item = self.unbox_item(ints, exit, p);
                self.loaded_unchecked = matches!(item, Slot::F(..));
                state.stack.truncate(d - 2);
                state.stack.push(item);
                Some(Step::Next)
            }
            _ => None,
        }
    }

    /// The array element at S0 for stack position `p`, as the scalar numpy's indexing returns
    /// it: float64 as a double; float32, int64 and int32 as numpy scalars of their own (NKind).
    /// Doubles are checked for NaN and infinity (to `finite_or`) when given, else left for
    /// the unchecked-value tracking.
    fn load_element(&mut self, dtype: Dtype, p: u32, finite_or: Option<Label>) -> Slot {
        let home = self.layout.stack(p);
        let h = Home::Spill(home);
        match dtype {
            Dtype::F64 | Dtype::F32 => {
                if dtype == Dtype::F64 {
                    self.asm.f_load_mem(FReg::F0, Reg::S0, 0);
                } else {
                    self.asm.f_load_f32(FReg::F0, Reg::S0, 0);
                }
                match finite_or {
                    Some(exit) => self.asm.jump_if_f_nonfinite(FReg::F0, exit),
                    None => self.loaded_unchecked = true,
                }
                self.ss_f(home, FReg::F0);
                if dtype == Dtype::F64 {
                    Slot::F(FKind::NpF64, h, Origin::Fresh)
                } else {
                    Slot::N(NKind::F32, h, Origin::Fresh)
                }
            }
            Dtype::I64 | Dtype::I32 => {
                if dtype == Dtype::I64 {
                    self.asm.load_field(Reg::R0, Reg::S0, 0);
                } else {
                    self.asm.load_field_i32(Reg::R0, Reg::S0, 0);
                }
                self.ss_i(home, Reg::R0);
                Slot::N(if dtype == Dtype::I64 { NKind::I64 } else { NKind::I32 }, h, Origin::Fresh)
            }
        }
    }

    /// The list or tuple item whose address is in R1, unboxed for stack position `p` (its
    /// value in the position's home, the object's address in its pointer spill): an exact
    /// int of 64 bits if `ints`, else an exact float (not checked for finiteness); anything
    /// else (a float among ints, a bigger int, a str appended mid-loop) goes to `exit`.
    fn unbox_item(&mut self, ints: bool, exit: Label, p: u32) -> Slot {
        let home = self.layout.stack(p);
        let ptr = self.layout.stack_ptr(p);
        self.ss_i(ptr, Reg::R1);
        if ints {
            self.flush(false);
            self.asm.call(exits::unbox_int as usize, &[Arg::Reg(Reg::R1)]);
            self.reload(false);
            self.asm.jump_if_equal_imm(Reg::R0, i64::MIN as u64, exit);
            self.ss_i(home, Reg::R0);
            Slot::I(Home::Spill(home), Origin::Ptr(ptr))
        } else {
            self.asm.load_field(Reg::R2, Reg::R1, 8);
            self.asm.jump_if_not_equal_imm(Reg::R2, std::ptr::addr_of!(PyFloat_Type) as u64, exit);
            self.asm.f_load_mem(FReg::F0, Reg::R1, 16);
            self.ss_f(home, FReg::F0);
            Slot::F(FKind::Float, Home::Spill(home), Origin::Ptr(ptr))
        }
    }

    /// Whether the list or tuple local `k` holds now mostly exact ints (else floats are
    /// expected): the type its item loads are compiled for.
    unsafe fn items_are_ints(&self, k: u32) -> bool {
        let obj = *cpython::field::<*mut PyObject>(self.frame.cast(), cpython::FRAME_LOCALSPLUS + 8 * k as usize);
        Self::sequence_of_ints(obj)
    }

    /// Whether a list or tuple holds mostly exact ints (judged from its first items).
    unsafe fn sequence_of_ints(obj: *mut PyObject) -> bool {
        if obj.is_null() {
            return false;
        }
        let len = *((obj as usize + 16) as *const isize);
        let items = if Py_TYPE(obj) == std::ptr::addr_of_mut!(PyTuple_Type) {
            (obj as usize + 24) as *const *mut PyObject
        } else {
            *((obj as usize + 24) as *const *const *mut PyObject)
        };
        let sample = len.clamp(0, 16) as usize;
        let ints = (0..sample).filter(|&i| Py_TYPE(*items.add(i)) == std::ptr::addr_of_mut!(PyLong_Type)).count();
        ints * 2 > sample
    }

    fn gen_store_subscr(&mut self, pos: usize, state: &mut State) -> Option<Step> {
        let d = Self::depth(state) as usize;
        let (value, container, index) = (state.stack[d - 3], state.stack[d - 2], state.stack[d - 1]);
        let Slot::LocalObj(k, EntryTy::Array { ndim, writeable: true, dtype }) = container else { return None };
        if !self.stored_arrays.contains(&k) {
            self.stored_arrays.push(k);
        }
        let int_value = matches!(value, Slot::I(..) | Slot::N(NKind::I64 | NKind::I32, ..));
        // What numpy stores exactly as a C cast would: into float arrays any number (float32
        // rounding, ints exact below 2^53); into int arrays only ints (numpy truncates
        // floats and raises for ints out of range: those exit).
        let accepted = match dtype {
            Dtype::F64 => matches!(value, Slot::F(..)) || matches!(value, Slot::N(..)) || int_value,
            Dtype::F32 => matches!(value, Slot::F(..) | Slot::N(..)) || int_value,
            Dtype::I64 | Dtype::I32 => int_value,
        };
        if !accepted {
            return None;
        }
        let indices = self.index_homes(index, ndim)?;
        let pre = state.clone();
        let exit = self.exit(pos, &pre, true, "array_index");
        self.array_element_address(k, &indices, exit)?;
        match dtype {
            Dtype::F64 => {
                self.load_f(FReg::F0, &value)?;
                self.asm.f_store_mem(Reg::S0, 0, FReg::F0);
            }
            Dtype::F32 => {
                let exit = self.exit(pos, &pre, true, "array_store_value");
                if let Slot::I(h, _) | Slot::N(NKind::I64 | NKind::I32, h, _) = value {
                    // Through a double only where that conversion is exact: then one rounding.
                    self.load_i(Reg::R1, h);
                    self.asm.jump_if_abs_above(Reg::R1, 1 << 53, exit);
                }
                self.load_f(FReg::F0, &value)?;
                // An overflow to infinity warns in numpy: the interpreter's job.
                self.asm.f_round_f32(FReg::F0);
                self.asm.jump_if_f_nonfinite(FReg::F0, exit);
                self.asm.f_store_f32(Reg::S0, 0, FReg::F0);
            }
            Dtype::I64 | Dtype::I32 => {
                let (Slot::I(h, _) | Slot::N(_, h, _)) = value else { return None };
                self.load_i(Reg::R0, h);
                if dtype == Dtype::I64 {
                    self.asm.store_field(Reg::S0, 0, Reg::R0);
                } else {
                    // numpy raises OverflowError for values outside int32.
                    let exit = self.exit(pos, &pre, true, "array_store_value");
                    self.asm.jump_if_not_i32(Reg::R0, exit);
                    self.asm.store_field_i32(Reg::S0, 0, Reg::R0);
                }
            }
        }
        self.uses_numpy = true;
        state.stack.truncate(d - 3);
        Some(Step::Next)
    }
}

/// `function` (an address, 0 for none) is `module`'s own C function named `name`: its
/// `__self__` is the module and its `__name__` is `name`. Read from the C structure, running
/// no Python code.
unsafe fn is_module_function(function: usize, module: *mut PyObject, name: &str) -> bool {
    let f = function as *mut PyObject;
    if f.is_null() || PyCFunction_Check(f) == 0 {
        return false;
    }
    let method = f as *mut PyCFunctionObject;
    (*method).m_self == module
        && !(*method).m_ml.is_null()
        && std::ffi::CStr::from_ptr((*(*method).m_ml).ml_name).to_bytes() == name.as_bytes()
}
