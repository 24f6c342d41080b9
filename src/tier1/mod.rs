//! Tier 1: the baseline template JIT.
//!
//! One template per bytecode instruction, stitched in bytecode order, operating directly on
//! the CPython frame: locals in `localsplus`, operands on the frame's own value stack at depths
//! known statically, `prev_instr` kept current wherever an instruction can raise or call. An
//! instruction without a template compiles as an exit into the interpreter at that
//! instruction. Every exit leaves the frame exactly as the interpreter would have it, so the
//! interpreter can continue (`throwflag = 0`) or unwind an exception (`throwflag = 1`).
//!
//! The compiled unit is `extern "C" fn(tstate, frame) -> *mut PyObject`: a non-null result is
//! the function's return value (stack empty); null means "continue in the interpreter", with
//! an exception set when it is an exception to unwind. `entry::run` does the frame bookkeeping
//! around it.

pub mod calls;
pub mod entry;
mod templates;

use crate::backend::{Arg, Assembler, Label, Reg};
use crate::bytecode::{self, Bytecode, Instr, Op};
use crate::codemem::CodeBlock;
use crate::cpython::{self, InterpreterFrame};
use crate::runtime;
use crate::stats::STATS;
use pyo3_ffi::{PyObject, PyThreadState};
use std::collections::HashMap;

/// A compiled function.
pub struct Compiled {
    pub block: CodeBlock,
    pub entry: unsafe extern "C" fn(*mut PyThreadState, *mut InterpreterFrame) -> *mut PyObject,
    /// Instructions compiled as exits into the interpreter, by opcode name.
    pub fallbacks: Vec<&'static str>,
    /// Where each fallback instruction starts (code units), in the order of `fallbacks`.
    pub fallback_starts: Vec<usize>,
    pub compile_ns: u64,
    /// Code-unit start of each compiled instruction and the byte offset of its code: where
    /// tier 2 hands control back to tier 1.
    pub instruction_offsets: HashMap<usize, usize>,
    /// The LOAD_GLOBAL caches the code points at (kept alive as long as the code).
    _global_caches: Vec<Box<runtime::global_cache::GlobalCache>>,
    /// The LOAD_ATTR caches likewise.
    _attr_caches: Vec<Box<runtime::attr_cache::AttrCache>>,
    /// The CALL caches likewise.
    _call_caches: Vec<Box<calls::CallCache>>,
    /// The STORE_ATTR caches likewise.
    _store_attr_caches: Vec<Box<runtime::attr_cache::StoreAttrCache>>,
}

impl Compiled {
    /// Address of the tier-1 code for the instruction starting at code unit `start`.
    pub fn address_of(&self, start: usize) -> Option<usize> {
        self.instruction_offsets.get(&start).map(|offset| self.block.start() as usize + offset)
    }
}

/// Why an exit leaves compiled code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
enum Exit {
    /// Continue in the interpreter at the instruction starting at `start` (code units), with
    /// `depth` values on the stack.
    Resume { start: usize, depth: u32 },
    /// Unwind the exception set, raised by the instruction at `index`, with `depth` values
    /// (all owned) left on the stack.
    Raise { index: usize, depth: u32 },
}

/// Compilation state for one code object.
pub struct Jit<'a> {
    pub asm: Assembler,
    bytecode: &'a Bytecode,
    depths: Vec<Option<u32>>,
    /// Label at the start of each instruction.
    labels: Vec<Label>,
    exits: HashMap<Exit, Label>,
    /// Position (in `bytecode.instrs`) of the instruction being compiled.
    pos: usize,
    pub nlocalsplus: u32,
    /// Address of the first code unit of `co_code_adaptive`: the frame's `prev_instr` base.
    code_start: usize,
    pub consts: Vec<*mut PyObject>,
    pub names: Vec<*mut PyObject>,
    /// The keyword names announced by a KW_NAMES for the next CALL.
    pub kwnames: Option<*mut PyObject>,
    fallbacks: Vec<&'static str>,
    /// Address of the code state's back-edge counter, incremented by JUMP_BACKWARD.
    pub backedge_counter: Option<usize>,
    /// The code object being compiled.
    pub code: *mut PyObject,
    /// Positions some jump lands on.
    jump_targets: std::collections::HashSet<usize>,
    /// LOAD_GLOBAL caches, one per site, moved into the `Compiled`.
    pub global_caches: Vec<Box<runtime::global_cache::GlobalCache>>,
    /// LOAD_ATTR caches likewise.
    pub attr_caches: Vec<Box<runtime::attr_cache::AttrCache>>,
    /// CALL caches likewise.
    pub call_caches: Vec<Box<calls::CallCache>>,
    /// STORE_ATTR caches likewise.
    pub store_attr_caches: Vec<Box<runtime::attr_cache::StoreAttrCache>>,
    /// Out-of-line code (slow paths of inline fast paths), emitted after all instructions:
    /// the instruction's position, the label the code starts at, and its generator.
    cold_paths: Vec<(usize, Label, ColdPath<'a>)>,
}

/// The generator of an out-of-line path (see `Jit::cold`).
type ColdPath<'a> = Box<dyn FnOnce(&mut Jit<'a>) + 'a>;

impl<'a> Jit<'a> {
    pub fn instr(&self) -> &'a Instr {
        &self.bytecode.instrs[self.pos]
    }

    /// Stack depth on entry to the current instruction.
    pub fn depth(&self) -> u32 {
        self.depths[self.pos].expect("compiling a reachable instruction")
    }

    /// Frame slot of the stack entry `n` places below the top (0 = top) on entry.
    pub fn peek(&self, n: u32) -> u32 {
        self.nlocalsplus + self.depth() - 1 - n
    }

    /// Frame slot of stack position `i` counted from the bottom of the value stack.
    pub fn stack_slot(&self, i: u32) -> u32 {
        self.nlocalsplus + i
    }

    /// Label of the instruction starting at code unit `start`.
    pub fn label_at(&self, start: usize) -> Option<Label> {
        let pos = self.bytecode.position(start)?;
        self.depths[pos]?;
        Some(self.labels[pos])
    }

    /// Stack depth on entry to the instruction starting at `start`.
    pub fn depth_at(&self, start: usize) -> Option<u32> {
        self.depths[self.bytecode.position(start)?]
    }

    /// Address of code unit `index`, as `prev_instr` holds it.
    pub fn unit_addr(&self, index: usize) -> u64 {
        (self.code_start + 2 * index) as u64
    }

    /// Record, for the frame's observers, that the current instruction is running: what
    /// `sys._getframe().f_lineno`, tracebacks and warnings read while it calls out.
    pub fn set_prev_instr_current(&mut self) {
        let addr = self.unit_addr(self.instr().index);
        self.asm.store_frame_field_imm(cpython::FRAME_PREV_INSTR, addr);
    }

    /// An exit that continues in the interpreter at the current instruction, its inputs
    /// untouched on the stack.
    pub fn side_exit(&mut self) -> Label {
        let exit = Exit::Resume { start: self.instr().start, depth: self.depth() };
        self.exit_label(exit)
    }

    /// An exit that continues in the interpreter at the instruction starting at `start`
    /// with `depth` values on the stack.
    pub fn resume_exit(&mut self, start: usize, depth: u32) -> Label {
        self.exit_label(Exit::Resume { start, depth })
    }

    /// An exit that unwinds the exception the current instruction raised, leaving `depth`
    /// values on the stack (the template has released the inputs it consumed).
    pub fn raise_exit(&mut self, depth: u32) -> Label {
        let exit = Exit::Raise { index: self.instr().index, depth };
        self.exit_label(exit)
    }

    /// A raise exit attributed to the instruction at code unit `index` (not the current one).
    pub fn raise_exit_at(&mut self, index: usize, depth: u32) -> Label {
        self.exit_label(Exit::Raise { index, depth })
    }

    /// 3.11's quickening (`_PyCode_Quicken`) fuses LOAD_FAST, STORE_FAST or LOAD_CONST
    /// followed by LOAD_FAST (and STORE_FAST+STORE_FAST, LOAD_FAST+LOAD_CONST) into
    /// superinstructions; in a run of such pairs every instruction is rewritten, so falling
    /// through from the run's start, halves alternate. If the current instruction runs as a
    /// second half, the code-unit index of its first half; None if not, or if a jump into the
    /// run makes it depend on the path.
    pub fn superinstruction_first_half(&self) -> Option<usize> {
        use Op::*;
        let fuses = |a: Op, b: Op| {
            matches!((a, b), (LOAD_FAST | STORE_FAST | LOAD_CONST, LOAD_FAST) | (STORE_FAST, STORE_FAST) | (LOAD_FAST, LOAD_CONST))
        };
        let instrs = &self.bytecode.instrs;
        // Does `j` follow `j - 1` as the second of a fusable pair of adjacent code units?
        let linked = |j: usize| {
            j > 0
                && instrs[j].start == instrs[j].index
                && instrs[j - 1].start == instrs[j - 1].index
                && instrs[j - 1].next == instrs[j].start
                && fuses(instrs[j - 1].op, instrs[j].op)
        };
        let mut first = self.pos;
        while linked(first) {
            if self.jump_targets.contains(&first) {
                return None; // reachable by a jump into the run: the grouping depends on the path
            }
            first -= 1;
        }
        if first == self.pos {
            return None;
        }
        // From the run's first instruction (dispatched), halves alternate.
        let second_half = (self.pos - first) % 2 == 1;
        second_half.then(|| instrs[self.pos - 1].index)
    }


    fn exit_label(&mut self, exit: Exit) -> Label {
        if let Some(label) = self.exits.get(&exit) {
            return *label;
        }
        let label = self.asm.new_label();
        self.exits.insert(exit, label);
        label
    }

    /// A new LOAD_ATTR cache for the site being compiled, by address.
    pub fn new_attr_cache(&mut self) -> u64 {
        let cache = runtime::attr_cache::AttrCache::new();
        let addr = &*cache as *const _ as u64;
        self.attr_caches.push(cache);
        addr
    }

    /// Code for the current instruction laid out of line, after all instructions (a slow
    /// path the hot code jumps to on a miss): `body` generates it later with the current
    /// instruction's position (stack depth, exits) and must end in a jump. Returns the label
    /// it starts at.
    pub fn cold(&mut self, body: impl FnOnce(&mut Jit<'a>) + 'a) -> Label {
        let label = self.asm.new_label();
        self.cold_paths.push((self.pos, label, Box::new(body)));
        label
    }

    /// Emit the out-of-line paths (which may add more).
    fn emit_cold_paths(&mut self) {
        while !self.cold_paths.is_empty() {
            let paths = std::mem::take(&mut self.cold_paths);
            for (pos, label, body) in paths {
                self.pos = pos;
                self.asm.bind(label);
                body(self);
            }
        }
    }

    /// Call a runtime helper.
    pub fn call(&mut self, helper: usize, args: &[Arg]) {
        self.asm.call(helper, args);
    }

    /// Emit the exits, out of line after all instructions.
    fn emit_exits(&mut self) {
        let mut exits: Vec<(Exit, Label)> = self.exits.iter().map(|(e, l)| (*e, *l)).collect();
        // A fixed order, so the same code always assembles to the same bytes.
        exits.sort_by_key(|(e, _)| *e);
        for (exit, label) in exits {
            self.asm.bind(label);
            let (prev_instr, depth) = match exit {
                // The interpreter runs `prev_instr + 1` next.
                Exit::Resume { start, depth } => (self.unit_addr(start).wrapping_sub(2), depth),
                // The interpreter attributes the exception to `prev_instr` itself.
                Exit::Raise { index, depth } => (self.unit_addr(index), depth),
            };
            self.asm.store_frame_field_imm(cpython::FRAME_PREV_INSTR, prev_instr);
            self.asm.store_frame_field_i32(cpython::FRAME_STACKTOP, (self.nlocalsplus + depth) as i32);
            self.asm.load_imm(Reg::R0, 0);
            self.asm.ret(Reg::R0);
        }
    }
}

/// Compile `code` (a code object) to tier-1 machine code.
pub fn compile(code: *mut PyObject, backedge_counter: Option<usize>) -> Result<Compiled, String> {
    let started = std::time::Instant::now();
    let bytes = unsafe { cpython::code_bytes(code) }.ok_or("could not read the bytecode")?;
    let bytecode = Bytecode::decode(&bytes);
    let depths = bytecode::stack_depths(&bytecode)?;

    let code_bytes = code as *const u8;
    let (nlocalsplus, consts, names) = unsafe {
        let nlocalsplus = *cpython::field::<i32>(code_bytes, cpython::CODE_CO_NLOCALSPLUS) as u32;
        let consts = tuple_items(*cpython::field::<*mut PyObject>(code_bytes, cpython::CODE_CO_CONSTS));
        let names = tuple_items(*cpython::field::<*mut PyObject>(code_bytes, cpython::CODE_CO_NAMES));
        (nlocalsplus, consts, names)
    };
    let mut asm = Assembler::new(cpython::FRAME_LOCALSPLUS, cpython::REFCOUNTS, cpython::ffi::_Py_Dealloc as usize);
    let labels = (0..bytecode.instrs.len()).map(|_| asm.new_label()).collect();
    let mut jit = Jit {
        asm,
        bytecode: &bytecode,
        depths,
        labels,
        exits: HashMap::new(),
        pos: 0,
        nlocalsplus,
        code_start: code_bytes as usize + cpython::CODE_CO_CODE_ADAPTIVE,
        consts,
        names,
        kwnames: None,
        fallbacks: Vec::new(),
        backedge_counter,
        code,
        jump_targets: bytecode
            .instrs
            .iter()
            .filter_map(|i| match i.flow() {
                bytecode::Flow::Branch(t) | bytecode::Flow::Jump(t) => bytecode.position(t),
                _ => None,
            })
            .collect(),
        global_caches: Vec::new(),
        attr_caches: Vec::new(),
        call_caches: Vec::new(),
        store_attr_caches: Vec::new(),
        cold_paths: Vec::new(),
    };

    jit.asm.prologue();
    let mut instruction_offsets = HashMap::new();
    let mut fallback_starts = Vec::new();
    for pos in 0..bytecode.instrs.len() {
        if jit.depths[pos].is_none() {
            continue; // unreachable from the entry (exception handlers run in the interpreter)
        }
        jit.pos = pos;
        let label = jit.labels[pos];
        jit.asm.bind(label);
        let instr = jit.instr();
        instruction_offsets.insert(instr.start, jit.asm.offset());
        if !is_pure(instr.op) && !sets_prev_instr_itself(instr.op) {
            // Anything that can release a value can run a destructor, which may look at the
            // frame's line: keep prev_instr at the running instruction, as the interpreter does.
            jit.set_prev_instr_current();
        }
        let compiled = templates::gen_instruction(&mut jit, instr);
        if compiled.is_none() {
            // No template: hand the rest of this call to the interpreter here.
            jit.fallbacks.push(instr.op.name());
            fallback_starts.push(instr.start);
            let exit = jit.side_exit();
            jit.asm.jump(exit);
        } else if !matches!(instr.op, Op::KW_NAMES | Op::PRECALL) {
            jit.kwnames = None;
        }
        // Falling off the end of a block into an unreachable instruction cannot happen: the
        // compiler ends every block with a jump, return or raise.
    }
    jit.emit_cold_paths();
    jit.emit_exits();
    let fallbacks = std::mem::take(&mut jit.fallbacks);
    let global_caches = std::mem::take(&mut jit.global_caches);
    let attr_caches = std::mem::take(&mut jit.attr_caches);
    let call_caches = std::mem::take(&mut jit.call_caches);
    let store_attr_caches = std::mem::take(&mut jit.store_attr_caches);
    let machine_code = jit.asm.finish()?;
    let block = CodeBlock::new(&machine_code).ok_or("executable memory refused (code_limit reached?)")?;
    if let Ok(dir) = std::env::var("AUTOJIT_DUMP_DIR") {
        // Debugging aid: the machine code, named by its address (for matching perf samples).
        let _ = std::fs::write(format!("{dir}/tier1-{:x}.bin", block.start() as usize), &machine_code);
    }
    let entry = unsafe { std::mem::transmute::<*const u8, _>(block.start()) };
    let compile_ns = started.elapsed().as_nanos() as u64;
    STATS.compile_ns.add(compile_ns);
    STATS.compiled.incr();
    STATS.fallback_instructions.add(fallbacks.len() as u64);
    crate::stats::count_fallbacks(&fallbacks);
    Ok(Compiled {
        block,
        entry,
        fallbacks,
        fallback_starts,
        compile_ns,
        instruction_offsets,
        _global_caches: global_caches,
        _attr_caches: attr_caches,
        _call_caches: call_caches,
        _store_attr_caches: store_attr_caches,
    })
}

/// Instructions whose templates keep `prev_instr` current themselves, on the paths that
/// can run code or release a reference (their inline fast paths do neither).
fn sets_prev_instr_itself(op: Op) -> bool {
    matches!(op, Op::LOAD_GLOBAL | Op::LOAD_ATTR | Op::LOAD_METHOD | Op::COMPARE_OP | Op::BINARY_OP | Op::CALL | Op::BINARY_SUBSCR | Op::STORE_SUBSCR | Op::STORE_ATTR | Op::FOR_ITER | Op::UNPACK_SEQUENCE | Op::STORE_FAST | Op::POP_TOP | Op::JUMP_BACKWARD)
}

/// Instructions that never run Python code or release a reference.
fn is_pure(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        NOP | RESUME | LOAD_FAST | LOAD_FAST_CHECK | LOAD_CLOSURE | LOAD_CONST | PUSH_NULL | COPY | SWAP
            | JUMP_FORWARD | LOAD_DEREF | KW_NAMES | PRECALL | LOAD_FAST_AND_CLEAR | LOAD_ASSERTION_ERROR
            | COPY_FREE_VARS | MAKE_CELL
    )
}

/// The items of a tuple, borrowed (the code object keeps them alive).
unsafe fn tuple_items(tuple: *mut PyObject) -> Vec<*mut PyObject> {
    if tuple.is_null() {
        return Vec::new();
    }
    let n = pyo3_ffi::PyTuple_Size(tuple);
    (0..n).map(|i| pyo3_ffi::PyTuple_GetItem(tuple, i)).collect()
}
