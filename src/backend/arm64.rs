//! aarch64 implementation of the macro-assembler, with dynasm.
//!
//! AAPCS64. Pinned: x19 = frame, x20 = thread state. Scratch: x0 (R0), x1 (R1), x2 (R2),
//! x3 (R3). Callee-saved scratch: x21 (S0), x22 (S1). Tier 2's integer homes: x23-x25; its
//! double homes: v16-v25 (caller-saved). The prologue saves x29/x30 (frame record) and
//! x19-x25 in 80 bytes, so sp stays 16-byte aligned. x16/x17 (IP0/IP1, which the
//! ABI lets any call clobber) are this layer's own temporaries: helper addresses, 64-bit
//! immediates (movz/movk), absolute-address loads, out-of-range displacements. v31
//! (caller-saved) is its floating-point temporary: double constants, loaded pc-relative
//! (`ldr d31, literal`) from a pool that `finish` lays out after the code.
//!
//! Conditional branches to labels use `b.cond`/`cbz`/`cbnz` (±1 MiB); a unit larger than that
//! fails to assemble (`finish` returns an error, the code stays interpreted) rather than
//! producing wrong code. Only short local skips use `tbz`/`tbnz`.
//!
//! Only baseline ARMv8.0 instructions are used (no LSE atomics, no FEAT_* extensions): the
//! tests also run with `QEMU_CPU=cortex-a53`.

use super::{Arg, Cond, FOp, FReg, IOp, Label, RefcountModel, Reg};
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};

const FRAME: u8 = 19;
const TSTATE: u8 = 20;
/// IP0 / IP1: temporaries of this layer, never a role register.
const TMP0: u8 = 16;
const TMP1: u8 = 17;
/// v31: this layer's floating-point temporary, never an `FReg`.
const FTMP: u8 = 31;
/// In a load/store's data position and in `X(..)` operands, 31 is the zero register; as a
/// base (`XSP(..)`) it is sp.
const ZR: u8 = 31;
const SP: u8 = 31;
const ARG_REGS: [u8; 6] = [0, 1, 2, 3, 4, 5];

fn num(reg: Reg) -> u8 {
    match reg {
        Reg::R0 => 0,
        Reg::R1 => 1,
        Reg::R2 => 2,
        Reg::R3 => 3,
        Reg::S0 => 21,
        Reg::S1 => 22,
        Reg::Home(n) => 23 + n,
    }
}

/// Integer home registers (tier 2): x23-x25.
pub const I_HOMES: u8 = 3;

/// Integer homes (x23-x25) are callee-saved and saved by the prologue.
pub fn i_home_is_callee_saved(_n: u8) -> bool {
    true
}

fn fnum(reg: FReg) -> u8 {
    match reg {
        FReg::F0 => 0,
        FReg::F1 => 1,
        FReg::F2 => 2,
        FReg::F3 => 3,
        FReg::F4 => 4,
        FReg::F5 => 5,
        FReg::Home(n) => 16 + n,
    }
}

/// aarch64 condition codes this layer branches on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cc {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Unsigned lower / higher / higher or same.
    Lo,
    Hi,
    Hs,
    /// After `fcmp`: less than (ordered) / less or equal (ordered).
    Mi,
    Ls,
}

fn signed(cond: Cond) -> Cc {
    match cond {
        Cond::Lt => Cc::Lt,
        Cond::Le => Cc::Le,
        Cond::Eq => Cc::Eq,
        Cond::Ne => Cc::Ne,
        Cond::Gt => Cc::Gt,
        Cond::Ge => Cc::Ge,
    }
}

/// After `fcmp`, the conditions that hold only for ordered operands where the comparison is
/// true (lt -> mi, le -> ls); eq/gt/ge are already false when unordered, ne true.
fn float(cond: Cond) -> Cc {
    match cond {
        Cond::Lt => Cc::Mi,
        Cond::Le => Cc::Ls,
        Cond::Eq => Cc::Eq,
        Cond::Ne => Cc::Ne,
        Cond::Gt => Cc::Gt,
        Cond::Ge => Cc::Ge,
    }
}

/// Memory access kinds (size and direction).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mem {
    LdrX,
    StrX,
    LdrW,
    StrW,
    LdrB,
    LdrD,
    StrD,
    LdrSW,
    LdrS,
    StrS,
}

pub struct Assembler {
    ops: VecAssembler<Aarch64Relocation>,
    /// Byte offset of `localsplus[0]` in the frame.
    localsplus: i32,
    refcounts: RefcountModel,
    dealloc: u64,
    /// Offset of the last label bound (code there may be reached by a jump).
    last_bind: usize,
    /// Double constants read by the code (pc-relative), laid out after it by `finish`.
    consts: Vec<(Label, u64)>,
}

impl Assembler {
    /// `localsplus`: the frame's localsplus offset; `dealloc`: address of `_Py_Dealloc`.
    pub fn new(localsplus: usize, refcounts: RefcountModel, dealloc: usize) -> Self {
        Assembler {
            ops: VecAssembler::new(0),
            localsplus: localsplus as i32,
            refcounts,
            dealloc: dealloc as u64,
            last_bind: usize::MAX,
            consts: Vec::new(),
        }
    }

    /// The label of the constant pool entry holding `value` (one entry per distinct value).
    fn constant(&mut self, value: f64) -> Label {
        let bits = value.to_bits();
        if let Some(&(label, _)) = self.consts.iter().find(|&&(_, b)| b == bits) {
            return label;
        }
        let label = self.ops.new_dynamic_label();
        self.consts.push((label, bits));
        label
    }

    /// `d31 = k` (a literal load from the constant pool, within 1 MiB as branches are).
    fn load_constant(&mut self, k: f64) {
        let c = self.constant(k);
        dynasm!(self.ops ; .arch aarch64 ; ldr D(FTMP), =>c);
    }

    pub fn new_label(&mut self) -> Label {
        self.ops.new_dynamic_label()
    }

    pub fn bind(&mut self, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; =>label);
        self.last_bind = self.offset();
    }

    /// Whether a label is bound at the current offset (then what a register held just
    /// before is not known to hold on every path reaching here).
    pub fn at_label(&self) -> bool {
        self.last_bind == self.offset()
    }

    /// Offset of the next byte to be emitted.
    pub fn offset(&self) -> usize {
        self.ops.offset().0
    }

    // --- Encoding helpers ---

    /// `x<r> = value`, with movz/movn and movk for the 16-bit pieces that need them.
    fn imm_to(&mut self, r: u8, value: u64) {
        let chunk = |i: u32| ((value >> (16 * i)) & 0xffff) as u32;
        let zeros = (0..4).filter(|&i| chunk(i) == 0).count();
        let ones = (0..4).filter(|&i| chunk(i) == 0xffff).count();
        let inverted = ones > zeros;
        let skip = if inverted { 0xffff } else { 0 };
        // The first piece written (movz/movn) sets all the others to the skipped value.
        let start = (0..4u32).find(|&i| chunk(i) != skip).unwrap_or(0);
        let mut first = true;
        for i in 0..4u32 {
            let c = chunk(i);
            if i < start || (c == skip && i != start) {
                continue;
            }
            if first {
                first = false;
                if inverted {
                    let n = !c & 0xffff;
                    match i {
                        0 => dynasm!(self.ops ; .arch aarch64 ; movn X(r), n),
                        1 => dynasm!(self.ops ; .arch aarch64 ; movn X(r), n, lsl 16),
                        2 => dynasm!(self.ops ; .arch aarch64 ; movn X(r), n, lsl 32),
                        _ => dynasm!(self.ops ; .arch aarch64 ; movn X(r), n, lsl 48),
                    }
                } else {
                    match i {
                        0 => dynasm!(self.ops ; .arch aarch64 ; movz X(r), c),
                        1 => dynasm!(self.ops ; .arch aarch64 ; movz X(r), c, lsl 16),
                        2 => dynasm!(self.ops ; .arch aarch64 ; movz X(r), c, lsl 32),
                        _ => dynasm!(self.ops ; .arch aarch64 ; movz X(r), c, lsl 48),
                    }
                }
            } else {
                match i {
                    0 => dynasm!(self.ops ; .arch aarch64 ; movk X(r), c),
                    1 => dynasm!(self.ops ; .arch aarch64 ; movk X(r), c, lsl 16),
                    2 => dynasm!(self.ops ; .arch aarch64 ; movk X(r), c, lsl 32),
                    _ => dynasm!(self.ops ; .arch aarch64 ; movk X(r), c, lsl 48),
                }
            }
        }
    }

    /// A load or store of `rt` at `base + disp` (`base` 31 = sp, `rt` 31 = zero register):
    /// the scaled unsigned-offset form when it fits, else the unscaled signed 9-bit form, else
    /// the displacement in x17 and the register-offset form.
    fn mem(&mut self, op: Mem, rt: u8, base: u8, disp: i32) {
        let scale = match op {
            Mem::LdrX | Mem::StrX | Mem::LdrD | Mem::StrD => 8,
            Mem::LdrW | Mem::StrW | Mem::LdrSW | Mem::LdrS | Mem::StrS => 4,
            Mem::LdrB => 1,
        };
        if disp >= 0 && disp % scale == 0 && disp / scale < 4096 {
            let d = disp as u32;
            match op {
                Mem::LdrX => dynasm!(self.ops ; .arch aarch64 ; ldr X(rt), [XSP(base), d]),
                Mem::StrX => dynasm!(self.ops ; .arch aarch64 ; str X(rt), [XSP(base), d]),
                Mem::LdrW => dynasm!(self.ops ; .arch aarch64 ; ldr W(rt), [XSP(base), d]),
                Mem::StrW => dynasm!(self.ops ; .arch aarch64 ; str W(rt), [XSP(base), d]),
                Mem::LdrB => dynasm!(self.ops ; .arch aarch64 ; ldrb W(rt), [XSP(base), d]),
                Mem::LdrD => dynasm!(self.ops ; .arch aarch64 ; ldr D(rt), [XSP(base), d]),
                Mem::StrD => dynasm!(self.ops ; .arch aarch64 ; str D(rt), [XSP(base), d]),
                Mem::LdrSW => dynasm!(self.ops ; .arch aarch64 ; ldrsw X(rt), [XSP(base), d]),
                Mem::LdrS => dynasm!(self.ops ; .arch aarch64 ; ldr S(rt), [XSP(base), d]),
                Mem::StrS => dynasm!(self.ops ; .arch aarch64 ; str S(rt), [XSP(base), d]),
            }
        } else if (-256..256).contains(&disp) {
            match op {
                Mem::LdrX => dynasm!(self.ops ; .arch aarch64 ; ldur X(rt), [XSP(base), disp]),
                Mem::StrX => dynasm!(self.ops ; .arch aarch64 ; stur X(rt), [XSP(base), disp]),
                Mem::LdrW => dynasm!(self.ops ; .arch aarch64 ; ldur W(rt), [XSP(base), disp]),
                Mem::StrW => dynasm!(self.ops ; .arch aarch64 ; stur W(rt), [XSP(base), disp]),
                Mem::LdrB => dynasm!(self.ops ; .arch aarch64 ; ldurb W(rt), [XSP(base), disp]),
                Mem::LdrD => dynasm!(self.ops ; .arch aarch64 ; ldur D(rt), [XSP(base), disp]),
                Mem::StrD => dynasm!(self.ops ; .arch aarch64 ; stur D(rt), [XSP(base), disp]),
                Mem::LdrSW => dynasm!(self.ops ; .arch aarch64 ; ldursw X(rt), [XSP(base), disp]),
                Mem::LdrS => dynasm!(self.ops ; .arch aarch64 ; ldur S(rt), [XSP(base), disp]),
                Mem::StrS => dynasm!(self.ops ; .arch aarch64 ; stur S(rt), [XSP(base), disp]),
            }
        } else {
            debug_assert!(base != TMP1 && (rt != TMP1 || matches!(op, Mem::LdrD | Mem::StrD | Mem::LdrS | Mem::StrS)));
            self.imm_to(TMP1, disp as i64 as u64);
            match op {
                Mem::LdrX => dynasm!(self.ops ; .arch aarch64 ; ldr X(rt), [XSP(base), x17]),
                Mem::StrX => dynasm!(self.ops ; .arch aarch64 ; str X(rt), [XSP(base), x17]),
                Mem::LdrW => dynasm!(self.ops ; .arch aarch64 ; ldr W(rt), [XSP(base), x17]),
                Mem::StrW => dynasm!(self.ops ; .arch aarch64 ; str W(rt), [XSP(base), x17]),
                Mem::LdrB => dynasm!(self.ops ; .arch aarch64 ; ldrb W(rt), [XSP(base), x17]),
                Mem::LdrD => dynasm!(self.ops ; .arch aarch64 ; ldr D(rt), [XSP(base), x17]),
                Mem::StrD => dynasm!(self.ops ; .arch aarch64 ; str D(rt), [XSP(base), x17]),
                Mem::LdrSW => dynasm!(self.ops ; .arch aarch64 ; ldrsw X(rt), [XSP(base), x17]),
                Mem::LdrS => dynasm!(self.ops ; .arch aarch64 ; ldr S(rt), [XSP(base), x17]),
                Mem::StrS => dynasm!(self.ops ; .arch aarch64 ; str S(rt), [XSP(base), x17]),
            }
        }
    }

    /// `x<d> = x<n> + imm` (`d`/`n` may be 31 = sp). Uses x16 for large immediates.
    fn add_imm(&mut self, d: u8, n: u8, imm: i64) {
        if (0..4096).contains(&imm) {
            let i = imm as u32;
            dynasm!(self.ops ; .arch aarch64 ; add XSP(d), XSP(n), i);
        } else if (-4095..0).contains(&imm) {
            let i = (-imm) as u32;
            dynasm!(self.ops ; .arch aarch64 ; sub XSP(d), XSP(n), i);
        } else {
            debug_assert!(n != TMP0);
            self.imm_to(TMP0, imm as u64);
            dynasm!(self.ops ; .arch aarch64 ; add XSP(d), XSP(n), x16, uxtx);
        }
    }

    /// Set the flags for `x<r> - imm`. Uses x17 for large immediates.
    fn cmp_imm(&mut self, r: u8, imm: i64) {
        if (0..4096).contains(&imm) {
            let i = imm as u32;
            dynasm!(self.ops ; .arch aarch64 ; cmp XSP(r), i);
        } else if (-4095..0).contains(&imm) {
            let i = (-imm) as u32;
            dynasm!(self.ops ; .arch aarch64 ; cmn XSP(r), i);
        } else {
            debug_assert!(r != TMP1);
            self.imm_to(TMP1, imm as u64);
            dynasm!(self.ops ; .arch aarch64 ; cmp X(r), x17);
        }
    }

    fn bcond(&mut self, cc: Cc, label: Label) {
        match cc {
            Cc::Eq => dynasm!(self.ops ; .arch aarch64 ; b.eq =>label),
            Cc::Ne => dynasm!(self.ops ; .arch aarch64 ; b.ne =>label),
            Cc::Lt => dynasm!(self.ops ; .arch aarch64 ; b.lt =>label),
            Cc::Le => dynasm!(self.ops ; .arch aarch64 ; b.le =>label),
            Cc::Gt => dynasm!(self.ops ; .arch aarch64 ; b.gt =>label),
            Cc::Ge => dynasm!(self.ops ; .arch aarch64 ; b.ge =>label),
            Cc::Lo => dynasm!(self.ops ; .arch aarch64 ; b.lo =>label),
            Cc::Hi => dynasm!(self.ops ; .arch aarch64 ; b.hi =>label),
            Cc::Hs => dynasm!(self.ops ; .arch aarch64 ; b.hs =>label),
            Cc::Mi => dynasm!(self.ops ; .arch aarch64 ; b.mi =>label),
            Cc::Ls => dynasm!(self.ops ; .arch aarch64 ; b.ls =>label),
        }
    }

    fn cset(&mut self, cc: Cc, d: u8) {
        match cc {
            Cc::Eq => dynasm!(self.ops ; .arch aarch64 ; cset X(d), eq),
            Cc::Ne => dynasm!(self.ops ; .arch aarch64 ; cset X(d), ne),
            Cc::Lt => dynasm!(self.ops ; .arch aarch64 ; cset X(d), lt),
            Cc::Le => dynasm!(self.ops ; .arch aarch64 ; cset X(d), le),
            Cc::Gt => dynasm!(self.ops ; .arch aarch64 ; cset X(d), gt),
            Cc::Ge => dynasm!(self.ops ; .arch aarch64 ; cset X(d), ge),
            Cc::Lo => dynasm!(self.ops ; .arch aarch64 ; cset X(d), lo),
            Cc::Hi => dynasm!(self.ops ; .arch aarch64 ; cset X(d), hi),
            Cc::Hs => dynasm!(self.ops ; .arch aarch64 ; cset X(d), hs),
            Cc::Mi => dynasm!(self.ops ; .arch aarch64 ; cset X(d), mi),
            Cc::Ls => dynasm!(self.ops ; .arch aarch64 ; cset X(d), ls),
        }
    }

    // --- Entry and exit ---

    /// Entry: `fn(tstate, frame) -> *mut PyObject`.
    pub fn prologue(&mut self) {
        dynasm!(self.ops ; .arch aarch64
            ; stp x29, x30, [sp, #-80]!
            ; mov x29, sp
            ; stp x19, x20, [sp, #16]
            ; stp x21, x22, [sp, #32]
            ; stp x23, x24, [sp, #48]
            ; str x25, [sp, #64]
            ; mov x19, x1
            ; mov x20, x0
        );
    }

    /// Return `reg` (a new reference, or null) to the caller.
    pub fn ret(&mut self, reg: Reg) {
        let r = num(reg);
        if r != 0 {
            dynasm!(self.ops ; .arch aarch64 ; mov x0, X(r));
        }
        dynasm!(self.ops ; .arch aarch64
            ; ldr x25, [sp, #64]
            ; ldp x23, x24, [sp, #48]
            ; ldp x21, x22, [sp, #32]
            ; ldp x19, x20, [sp, #16]
            ; ldp x29, x30, [sp], #80
            ; ret
        );
    }

    fn slot_disp(&self, slot: u32) -> i32 {
        self.localsplus + 8 * slot as i32
    }

    pub fn load_slot(&mut self, dst: Reg, slot: u32) {
        let disp = self.slot_disp(slot);
        self.mem(Mem::LdrX, num(dst), FRAME, disp);
    }

    pub fn store_slot(&mut self, slot: u32, src: Reg) {
        let disp = self.slot_disp(slot);
        self.mem(Mem::StrX, num(src), FRAME, disp);
    }

    pub fn clear_slot(&mut self, slot: u32) {
        let disp = self.slot_disp(slot);
        self.mem(Mem::StrX, ZR, FRAME, disp);
    }

    pub fn mov(&mut self, dst: Reg, src: Reg) {
        if dst != src {
            dynasm!(self.ops ; .arch aarch64 ; mov X(num(dst)), X(num(src)));
        }
    }

    pub fn load_imm(&mut self, dst: Reg, value: u64) {
        self.imm_to(num(dst), value);
    }

    /// `dst = *(u64 *)(base + disp)`.
    pub fn load_field(&mut self, dst: Reg, base: Reg, disp: i32) {
        self.mem(Mem::LdrX, num(dst), num(base), disp);
    }

    /// `*(u64 *)(base + disp) = src`.
    pub fn store_field(&mut self, base: Reg, disp: i32, src: Reg) {
        self.mem(Mem::StrX, num(src), num(base), disp);
    }

    /// `*(u64 *)(frame + disp) = value` for a frame header field.
    pub fn store_frame_field_imm(&mut self, disp: usize, value: u64) {
        if value == 0 {
            self.mem(Mem::StrX, ZR, FRAME, disp as i32);
        } else {
            self.imm_to(TMP0, value);
            self.mem(Mem::StrX, TMP0, FRAME, disp as i32);
        }
    }

    /// `*(i32 *)(frame + disp) = value`.
    pub fn store_frame_field_i32(&mut self, disp: usize, value: i32) {
        self.imm_to(TMP0, value as u32 as u64);
        self.mem(Mem::StrW, TMP0, FRAME, disp as i32);
    }

    /// Py_INCREF(reg).
    pub fn incref(&mut self, reg: Reg) {
        let r = num(reg);
        match self.refcounts {
            RefcountModel::Plain => dynasm!(self.ops ; .arch aarch64
                ; ldr x16, [X(r)]
                ; add x16, x16, #1
                ; str x16, [X(r)]
            ),
            RefcountModel::Immortal => {
                // 3.12: the low 32 bits saturate; an immortal object's count never changes.
                dynasm!(self.ops ; .arch aarch64
                    ; ldr w16, [X(r)]
                    ; add w16, w16, #1
                    ; cbz w16, >skip
                    ; str w16, [X(r)]
                    ; skip:
                );
            }
        }
    }

    /// Py_DECREF(reg). May run arbitrary code (a destructor): scratch registers are clobbered.
    pub fn decref(&mut self, reg: Reg) {
        let r = num(reg);
        if self.refcounts == RefcountModel::Immortal {
            // Immortal: the low 32 bits, as a signed int, are negative.
            dynasm!(self.ops ; .arch aarch64 ; ldr w16, [X(r)] ; tbnz w16, #31, >done);
        }
        dynasm!(self.ops ; .arch aarch64
            ; ldr x16, [X(r)]
            ; subs x16, x16, #1
            ; str x16, [X(r)]
            ; b.ne >done
        );
        if r != 0 {
            dynasm!(self.ops ; .arch aarch64 ; mov x0, X(r));
        }
        self.imm_to(TMP0, self.dealloc);
        dynasm!(self.ops ; .arch aarch64
            ; blr x16
            ; done:
        );
    }

    /// Py_XDECREF(reg).
    pub fn xdecref(&mut self, reg: Reg) {
        let r = num(reg);
        dynasm!(self.ops ; .arch aarch64 ; cbz X(r), >null);
        self.decref(reg);
        dynasm!(self.ops ; .arch aarch64 ; null:);
    }

    /// Call the C function at `addr` with `args`; the result is in R0.
    pub fn call(&mut self, addr: usize, args: &[Arg]) {
        self.set_arguments(args);
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; blr x16);
    }

    /// Put `args` into the argument registers.
    fn set_arguments(&mut self, args: &[Arg]) {
        assert!(args.len() <= ARG_REGS.len());
        // Register sources first, as simultaneous moves (a source may be another argument's
        // register), then everything that only writes its own argument register.
        let mut pending: Vec<(u8, u8)> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            if let Arg::Reg(reg) = arg {
                pending.push((ARG_REGS[i], num(*reg)));
            }
        }
        self.parallel_moves(&mut pending);
        for (i, arg) in args.iter().enumerate() {
            let dst = ARG_REGS[i];
            match *arg {
                Arg::Reg(_) => {}
                Arg::Imm(v) => self.imm_to(dst, v),
                Arg::Slot(slot) => {
                    let disp = self.slot_disp(slot);
                    self.mem(Mem::LdrX, dst, FRAME, disp);
                }
                Arg::SlotAddr(slot) => {
                    let disp = self.slot_disp(slot);
                    self.add_imm(dst, FRAME, disp as i64);
                }
                Arg::Frame => dynasm!(self.ops ; .arch aarch64 ; mov X(dst), x19),
                Arg::Tstate => dynasm!(self.ops ; .arch aarch64 ; mov X(dst), x20),
                Arg::SpillBase => dynasm!(self.ops ; .arch aarch64 ; mov XSP(dst), sp),
            }
        }
    }

    /// Perform register moves (dst, src) as if simultaneously.
    fn parallel_moves(&mut self, moves: &mut Vec<(u8, u8)>) {
        moves.retain(|(d, s)| d != s);
        while !moves.is_empty() {
            // A move whose destination is no other pending move's source can go now.
            if let Some(i) = (0..moves.len()).find(|&i| !moves.iter().any(|(_, s)| *s == moves[i].0)) {
                let (d, s) = moves.remove(i);
                dynasm!(self.ops ; .arch aarch64 ; mov X(d), X(s));
            } else {
                // A cycle: break it through x16.
                let (_, s) = moves[0];
                dynasm!(self.ops ; .arch aarch64 ; mov x16, X(s));
                for m in moves.iter_mut() {
                    if m.1 == s {
                        m.1 = TMP0;
                    }
                }
            }
        }
    }

    pub fn jump(&mut self, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; b =>label);
    }

    pub fn jump_if_zero(&mut self, reg: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cbz X(num(reg)), =>label);
    }

    pub fn jump_if_nonzero(&mut self, reg: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cbnz X(num(reg)), =>label);
    }

    /// Jump if the low 32 bits of `reg`, as a signed int, are negative (C functions that
    /// return -1 on error).
    pub fn jump_if_negative_i32(&mut self, reg: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp WSP(num(reg)), #0 ; b.lt =>label);
    }

    /// Jump if the low 32 bits of `reg` are nonzero.
    pub fn jump_if_nonzero_i32(&mut self, reg: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cbnz W(num(reg)), =>label);
    }

    pub fn jump_if_equal_reg(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)) ; b.eq =>label);
    }

    pub fn jump_if_equal_imm(&mut self, reg: Reg, value: u64, label: Label) {
        self.cmp_imm(num(reg), value as i64);
        self.bcond(Cc::Eq, label);
    }

    pub fn jump_if_not_equal_imm(&mut self, reg: Reg, value: u64, label: Label) {
        self.cmp_imm(num(reg), value as i64);
        self.bcond(Cc::Ne, label);
    }

    /// Jump if the 32-bit value at absolute address `addr` is nonzero.
    pub fn jump_if_i32_at_nonzero(&mut self, addr: usize, label: Label) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; ldr w16, [x16] ; cbnz w16, =>label);
    }

    /// Jump if either 8-byte value at absolute address `addr` or `addr + disp` is nonzero.
    pub fn jump_if_either_u64_at_nonzero(&mut self, addr: usize, disp: i32, label: Label) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; ldr x17, [x16]);
        self.mem(Mem::LdrX, TMP0, TMP0, disp);
        dynasm!(self.ops ; .arch aarch64 ; orr x16, x16, x17 ; cbnz x16, =>label);
    }

    /// Jump if the 8-byte value at absolute address `addr` is nonzero.
    pub fn jump_if_u64_at_nonzero(&mut self, addr: usize, label: Label) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; ldr x16, [x16] ; cbnz x16, =>label);
    }

    /// `dst = *(u64 *)(tstate + disp)`.
    pub fn load_tstate_field(&mut self, dst: Reg, disp: usize) {
        self.mem(Mem::LdrX, num(dst), TSTATE, disp as i32);
    }

    /// Jump if the byte at `base + disp` is nonzero.
    pub fn jump_if_u8_field_nonzero(&mut self, base: Reg, disp: usize, label: Label) {
        self.mem(Mem::LdrB, TMP0, num(base), disp as i32);
        dynasm!(self.ops ; .arch aarch64 ; cbnz w16, =>label);
    }

    /// Jump if `*(u64 *)addr & mask` is nonzero (`mask` sign-extended, as on x86_64).
    pub fn jump_if_u64_at_masked(&mut self, addr: usize, mask: i32, label: Label) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; ldr x16, [x16]);
        self.imm_to(TMP1, mask as i64 as u64);
        dynasm!(self.ops ; .arch aarch64 ; tst x16, x17 ; b.ne =>label);
    }

    /// `*(u64 *)addr += 1`, then jump if the new value has any of the bits of `mask`
    /// (sign-extended, as on x86_64).
    pub fn increment_u64_at_and_jump_if_masked(&mut self, addr: usize, mask: i32, label: Label) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64
            ; ldr x17, [x16]
            ; add x17, x17, #1
            ; str x17, [x16]
        );
        self.imm_to(TMP0, mask as i64 as u64);
        dynasm!(self.ops ; .arch aarch64 ; tst x17, x16 ; b.ne =>label);
    }

    /// `*(u64 *)addr += 1`.
    pub fn increment_u64_at(&mut self, addr: usize) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64
            ; ldr x17, [x16]
            ; add x17, x17, #1
            ; str x17, [x16]
        );
    }

    // --- Tier-2 operations: a spill area on the machine stack, doubles and integers. ---

    /// Grow the machine stack by `bytes` (a multiple of 16: sp must stay 16-byte aligned) for
    /// spill slots.
    pub fn reserve_spill(&mut self, bytes: i32) {
        assert!(bytes >= 0 && bytes % 16 == 0, "spill area of {bytes} bytes");
        self.add_imm(SP, SP, -(bytes as i64));
    }

    pub fn release_spill(&mut self, bytes: i32) {
        assert!(bytes >= 0 && bytes % 16 == 0, "spill area of {bytes} bytes");
        self.add_imm(SP, SP, bytes as i64);
    }

    pub fn load_spill(&mut self, dst: Reg, slot: u32) {
        self.mem(Mem::LdrX, num(dst), SP, 8 * slot as i32);
    }

    pub fn store_spill(&mut self, slot: u32, src: Reg) {
        self.mem(Mem::StrX, num(src), SP, 8 * slot as i32);
    }

    pub fn load_spill_f(&mut self, dst: FReg, slot: u32) {
        self.mem(Mem::LdrD, fnum(dst), SP, 8 * slot as i32);
    }

    pub fn store_spill_f(&mut self, slot: u32, src: FReg) {
        self.mem(Mem::StrD, fnum(src), SP, 8 * slot as i32);
    }

    /// Address of spill slot `slot` into `dst`.
    pub fn spill_addr(&mut self, dst: Reg, slot: u32) {
        self.add_imm(num(dst), SP, 8 * slot as i64);
    }

    pub fn f_arith(&mut self, op: FOp, dst: FReg, src: FReg) {
        let (d, s) = (fnum(dst), fnum(src));
        match op {
            FOp::Add => dynasm!(self.ops ; .arch aarch64 ; fadd D(d), D(d), D(s)),
            FOp::Sub => dynasm!(self.ops ; .arch aarch64 ; fsub D(d), D(d), D(s)),
            FOp::Mul => dynasm!(self.ops ; .arch aarch64 ; fmul D(d), D(d), D(s)),
            FOp::Div => dynasm!(self.ops ; .arch aarch64 ; fdiv D(d), D(d), D(s)),
        }
    }

    pub fn f_mov(&mut self, dst: FReg, src: FReg) {
        if dst != src {
            dynasm!(self.ops ; .arch aarch64 ; fmov D(fnum(dst)), D(fnum(src)));
        }
    }

    /// `dst = (double) src`, correctly rounded (as CPython's int-to-float conversion).
    pub fn f_from_i64(&mut self, dst: FReg, src: Reg) {
        dynasm!(self.ops ; .arch aarch64 ; scvtf D(fnum(dst)), X(num(src)));
    }

    pub fn f_load_bits(&mut self, dst: FReg, bits: u64) {
        if bits == 0 {
            dynasm!(self.ops ; .arch aarch64 ; fmov D(fnum(dst)), xzr);
        } else {
            // From the constant pool (within 1 MiB, as branches are): one load.
            let c = self.constant(f64::from_bits(bits));
            dynasm!(self.ops ; .arch aarch64 ; ldr D(fnum(dst)), =>c);
        }
    }

    /// `dst = *(double *)(base + disp)`.
    pub fn f_load_mem(&mut self, dst: FReg, base: Reg, disp: i32) {
        self.mem(Mem::LdrD, fnum(dst), num(base), disp);
    }

    /// `*(double *)(base + disp) = src`.
    pub fn f_store_mem(&mut self, base: Reg, disp: i32, src: FReg) {
        self.mem(Mem::StrD, fnum(src), num(base), disp);
    }

    // --- Narrow numpy element types: int32 and float32 in memory, int64 and double in registers.

    /// `dst = *(i32 *)(base + disp)`, sign-extended.
    pub fn load_field_i32(&mut self, dst: Reg, base: Reg, disp: i32) {
        self.mem(Mem::LdrSW, num(dst), num(base), disp);
    }

    /// `*(i32 *)(base + disp) = src` (the low 32 bits).
    pub fn store_field_i32(&mut self, base: Reg, disp: i32, src: Reg) {
        self.mem(Mem::StrW, num(src), num(base), disp);
    }

    /// Jump if `reg`'s signed value lies outside the int32 range.
    pub fn jump_if_not_i32(&mut self, reg: Reg, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch aarch64 ; cmp XSP(r), W(r), sxtw ; b.ne =>label);
    }

    /// `dst = (double) *(float *)(base + disp)` (exact).
    pub fn f_load_f32(&mut self, dst: FReg, base: Reg, disp: i32) {
        let d = fnum(dst);
        self.mem(Mem::LdrS, d, num(base), disp);
        dynasm!(self.ops ; .arch aarch64 ; fcvt D(d), S(d));
    }

    /// `*(float *)(base + disp) = (float) src`, rounded to nearest as a C cast; `src` is
    /// clobbered (it holds the float's bits afterwards).
    pub fn f_store_f32(&mut self, base: Reg, disp: i32, src: FReg) {
        let s = fnum(src);
        dynasm!(self.ops ; .arch aarch64 ; fcvt S(s), D(s));
        self.mem(Mem::StrS, s, num(base), disp);
    }

    /// `reg = (double)(float) reg`: rounded to float32 precision and range (an infinity when
    /// it overflows), as a C cast to float rounds.
    pub fn f_round_f32(&mut self, reg: FReg) {
        let r = fnum(reg);
        dynasm!(self.ops ; .arch aarch64 ; fcvt S(r), D(r) ; fcvt D(r), S(r));
    }

    /// C's signed division: `a = a / b` (truncated), `b = a % b` (the remainder, with the
    /// dividend's sign). The caller excludes `b == 0` and `i64::MIN / -1`. Clobbers R0 and R2
    /// (as on x86_64, where idiv needs them), which must not be `a` or `b`.
    pub fn i_div_rem(&mut self, a: Reg, b: Reg) {
        assert!(![Reg::R0, Reg::R2].contains(&a) && ![Reg::R0, Reg::R2].contains(&b), "i_div_rem operands");
        let (ra, rb) = (num(a), num(b));
        dynasm!(self.ops ; .arch aarch64
            ; sdiv x16, X(ra), X(rb)
            ; msub X(rb), x16, X(rb), X(ra)
            ; mov X(ra), x16
        );
    }

    /// `dst = (int64_t) src`, truncated toward zero; `src` must lie in [-2^63, 2^63).
    pub fn f_to_i64_trunc(&mut self, dst: Reg, src: FReg) {
        dynasm!(self.ops ; .arch aarch64 ; fcvtzs X(num(dst)), D(fnum(src)));
    }

    /// Jump if `reg` holds an infinity or a NaN (all exponent bits set). May clobber F5.
    pub fn jump_if_f_nonfinite(&mut self, reg: FReg, label: Label) {
        dynasm!(self.ops ; .arch aarch64
            ; fmov x16, D(fnum(reg))
            ; ubfx x16, x16, #52, #11
            ; cmp x16, #0x7ff
            ; b.eq =>label
        );
    }

    /// Jump if `reg` is +0.0 or -0.0.
    pub fn jump_if_f_zero(&mut self, reg: FReg, label: Label) {
        dynasm!(self.ops ; .arch aarch64
            ; fmov x16, D(fnum(reg))
            ; lsl x16, x16, #1
            ; cbz x16, =>label
        );
    }

    /// Compare doubles (never NaN here: tier 2 only holds finite values) and jump if `cond`.
    /// The conditions are IEEE's ordered ones (false for NaN, except Ne).
    pub fn f_jump_if(&mut self, cond: Cond, a: FReg, b: FReg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; fcmp D(fnum(a)), D(fnum(b)));
        self.bcond(float(cond), label);
    }

    /// `dst op= src`, jumping to `overflow` if the signed 64-bit result overflows.
    pub fn i_arith(&mut self, op: IOp, dst: Reg, src: Reg, overflow: Label) {
        let (d, s) = (num(dst), num(src));
        match op {
            IOp::Add => dynasm!(self.ops ; .arch aarch64 ; adds X(d), X(d), X(s) ; b.vs =>overflow),
            IOp::Sub => dynasm!(self.ops ; .arch aarch64 ; subs X(d), X(d), X(s) ; b.vs =>overflow),
            // The 128-bit product fits in 64 bits iff its high half is the sign of the low half.
            IOp::Mul => dynasm!(self.ops ; .arch aarch64
                ; smulh x16, X(d), X(s)
                ; mul X(d), X(d), X(s)
                ; cmp x16, X(d), asr #63
                ; b.ne =>overflow
            ),
            IOp::And => dynasm!(self.ops ; .arch aarch64 ; and X(d), X(d), X(s)),
            IOp::Or => dynasm!(self.ops ; .arch aarch64 ; orr X(d), X(d), X(s)),
            IOp::Xor => dynasm!(self.ops ; .arch aarch64 ; eor X(d), X(d), X(s)),
        }
    }

    /// Signed integer compare and jump.
    pub fn i_jump_if(&mut self, cond: Cond, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)));
        self.bcond(signed(cond), label);
    }

    /// Unsigned compare and jump if `a < b` (a negative `a` counts as huge): one test for
    /// `0 <= a < b` when `b` is a length.
    pub fn u_jump_if_below(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)));
        self.bcond(Cc::Lo, label);
    }

    /// Unsigned compare and jump if `a >= b`.
    pub fn u_jump_if_not_below(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)));
        self.bcond(Cc::Hs, label);
    }

    /// Signed compare with a 32-bit immediate and jump.
    pub fn i_jump_if_imm(&mut self, cond: Cond, a: Reg, imm: i32, label: Label) {
        self.cmp_imm(num(a), imm as i64);
        self.bcond(signed(cond), label);
    }

    /// `dst = (a cond b) ? 1 : 0` for signed integers.
    pub fn i_set_if(&mut self, cond: Cond, dst: Reg, a: Reg, b: Reg) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)));
        self.cset(signed(cond), num(dst));
    }

    /// `dst = (a cond b) ? 1 : 0` for doubles (never NaN here).
    pub fn f_set_if(&mut self, cond: Cond, dst: Reg, a: FReg, b: FReg) {
        dynasm!(self.ops ; .arch aarch64 ; fcmp D(fnum(a)), D(fnum(b)));
        self.cset(float(cond), num(dst));
    }

    /// Jump if `|reg| > limit` (signed value, unsigned limit below 2^62).
    pub fn jump_if_abs_above(&mut self, reg: Reg, limit: u64, label: Label) {
        self.imm_to(TMP1, limit);
        dynasm!(self.ops ; .arch aarch64
            ; add x16, X(num(reg)), x17
            ; add x17, x17, x17
            ; cmp x16, x17
            ; b.hi =>label
        );
    }

    /// Fused multiply-add is part of ARMv8.0.
    pub fn has_fma() -> bool {
        true
    }

    /// `dst = a * b - dst`, computed exactly then rounded once.
    pub fn f_fused_mul_sub(&mut self, dst: FReg, a: FReg, b: FReg) {
        let (d, n, m) = (fnum(dst), fnum(a), fnum(b));
        dynasm!(self.ops ; .arch aarch64 ; fnmsub D(d), D(n), D(m), D(d));
    }

    /// `dst = |dst|`.
    pub fn f_abs(&mut self, dst: FReg) {
        let d = fnum(dst);
        dynasm!(self.ops ; .arch aarch64 ; fabs D(d), D(d));
    }

    /// `dst` = the correctly rounded square root of `dst`.
    pub fn f_sqrt(&mut self, dst: FReg) {
        let d = fnum(dst);
        dynasm!(self.ops ; .arch aarch64 ; fsqrt D(d), D(d));
    }

    /// `dst op= k` for a double constant `k` (from the constant pool).
    pub fn f_arith_const(&mut self, op: FOp, dst: FReg, k: f64) {
        let d = fnum(dst);
        self.load_constant(k);
        match op {
            FOp::Add => dynasm!(self.ops ; .arch aarch64 ; fadd D(d), D(d), D(FTMP)),
            FOp::Sub => dynasm!(self.ops ; .arch aarch64 ; fsub D(d), D(d), D(FTMP)),
            FOp::Mul => dynasm!(self.ops ; .arch aarch64 ; fmul D(d), D(d), D(FTMP)),
            FOp::Div => dynasm!(self.ops ; .arch aarch64 ; fdiv D(d), D(d), D(FTMP)),
        }
    }

    /// `dst = dst * k + addend` for a double constant `k`, computed exactly then rounded once.
    pub fn f_fused_mul_add_const(&mut self, dst: FReg, k: f64, addend: FReg) {
        let (d, a) = (fnum(dst), fnum(addend));
        self.load_constant(k);
        dynasm!(self.ops ; .arch aarch64 ; fmadd D(d), D(d), D(FTMP), D(a));
    }

    /// Jump unless `2^lo <= reg < 2^hi` (-1022 < lo < hi <= 1023): zero, negative values,
    /// infinities and NaN jump.
    pub fn jump_unless_binades(&mut self, reg: FReg, lo: i32, hi: i32, label: Label) {
        assert!(-1022 < lo && lo < hi && hi <= 1023, "binade range");
        // The sign and the biased exponent as one number (a negative value's is 2048 or more;
        // infinities and NaN have 2047): in range iff it lies in [1023 + lo, 1023 + hi).
        dynasm!(self.ops ; .arch aarch64
            ; fmov x16, D(fnum(reg))
            ; lsr x16, x16, #52
        );
        self.add_imm(TMP0, TMP0, -(1023 + lo as i64));
        self.cmp_imm(TMP0, (hi - lo - 1) as i64);
        self.bcond(Cc::Hi, label);
    }

    /// Jump if `|reg|` is below the smallest normal double (zero or subnormal).
    pub fn jump_if_f_tiny(&mut self, reg: FReg, label: Label) {
        dynasm!(self.ops ; .arch aarch64
            ; fmov x16, D(fnum(reg))
            ; lsl x16, x16, #1
        );
        self.imm_to(TMP1, f64::MIN_POSITIVE.to_bits() << 1);
        dynasm!(self.ops ; .arch aarch64 ; cmp x16, x17);
        self.bcond(Cc::Lo, label);
    }

    /// `dst += imm`.
    pub fn i_add_imm(&mut self, dst: Reg, imm: i32) {
        let d = num(dst);
        self.add_imm(d, d, imm as i64);
    }

    /// Move an integer register's bits into a double register.
    pub fn f_from_bits(&mut self, dst: FReg, src: Reg) {
        dynasm!(self.ops ; .arch aarch64 ; fmov D(fnum(dst)), X(num(src)));
    }

    /// `dst += src` without an overflow check (address arithmetic).
    pub fn i_add(&mut self, dst: Reg, src: Reg) {
        let (d, s) = (num(dst), num(src));
        dynasm!(self.ops ; .arch aarch64 ; add X(d), X(d), X(s));
    }

    /// `dst *= src` without an overflow check (address arithmetic on checked indices).
    pub fn i_mul(&mut self, dst: Reg, src: Reg) {
        let (d, s) = (num(dst), num(src));
        dynasm!(self.ops ; .arch aarch64 ; mul X(d), X(d), X(s));
    }

    /// `*(i64 *)(base + disp) += imm`.
    pub fn i_add_field_imm(&mut self, base: Reg, disp: i32, imm: i32) {
        let b = num(base);
        self.mem(Mem::LdrX, TMP0, b, disp);
        if (0..4096).contains(&imm) {
            let i = imm as u32;
            dynasm!(self.ops ; .arch aarch64 ; add x16, x16, i);
        } else if (-4095..0).contains(&imm) {
            let i = (-imm) as u32;
            dynasm!(self.ops ; .arch aarch64 ; sub x16, x16, i);
        } else {
            self.imm_to(TMP1, imm as i64 as u64);
            dynasm!(self.ops ; .arch aarch64 ; add x16, x16, x17);
        }
        self.mem(Mem::StrX, TMP0, b, disp);
    }

    /// `*(i64 *)(base + disp) = src`.
    pub fn i_store_field(&mut self, base: Reg, disp: i32, src: Reg) {
        self.mem(Mem::StrX, num(src), num(base), disp);
    }

    /// Jump to an absolute address (another compiled unit's instruction).
    pub fn jump_absolute(&mut self, addr: usize) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; br x16);
    }

    /// Jump to the address held in `reg`.
    pub fn jump_reg(&mut self, reg: Reg) {
        dynasm!(self.ops ; .arch aarch64 ; br X(num(reg)));
    }

    /// Call a C function taking doubles (already in F0, F1); the result is in F0.
    pub fn call_f(&mut self, addr: usize) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; blr x16);
    }

    /// Jump if `*(u64 *)(base + disp)` has any of the bits of `mask` (a 32-bit mask,
    /// sign-extended as on x86_64).
    pub fn jump_if_field_bits(&mut self, base: Reg, disp: i32, mask: i32, label: Label) {
        self.mem(Mem::LdrX, TMP0, num(base), disp);
        self.imm_to(TMP1, mask as i64 as u64);
        dynasm!(self.ops ; .arch aarch64 ; tst x16, x17 ; b.ne =>label);
    }

    // --- Tier-1 inline fast paths: cache checks and one-digit ints. ---

    /// `dst = *(u64 *)(frame + disp)` for a frame header field.
    pub fn load_frame_field(&mut self, dst: Reg, disp: usize) {
        self.mem(Mem::LdrX, num(dst), FRAME, disp as i32);
    }

    /// `dst = *(u32 *)(base + disp)`, zero-extended.
    pub fn load_field_u32(&mut self, dst: Reg, base: Reg, disp: i32) {
        self.mem(Mem::LdrW, num(dst), num(base), disp);
    }

    /// `dst = *(u64 *)(base + 8 * index)`.
    pub fn load_field_indexed(&mut self, dst: Reg, base: Reg, index: Reg) {
        let (d, b, i) = (num(dst), num(base), num(index));
        dynasm!(self.ops ; .arch aarch64 ; ldr X(d), [X(b), X(i), lsl #3]);
    }

    /// Jump if `a != *(u64 *)(base + disp)`.
    pub fn jump_if_field_not_equal(&mut self, a: Reg, base: Reg, disp: i32, label: Label) {
        self.mem(Mem::LdrX, TMP0, num(base), disp);
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), x16 ; b.ne =>label);
    }

    /// Jump if the low 32 bits of `a` differ from `*(u32 *)(base + disp)`.
    pub fn jump_if_field_u32_not_equal(&mut self, a: Reg, base: Reg, disp: i32, label: Label) {
        self.mem(Mem::LdrW, TMP0, num(base), disp);
        dynasm!(self.ops ; .arch aarch64 ; cmp W(num(a)), w16 ; b.ne =>label);
    }

    pub fn jump_if_not_equal_reg(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)) ; b.ne =>label);
    }

    /// Jump if `reg & mask == 0` (`mask` a positive 31-bit value).
    pub fn jump_if_bits_clear(&mut self, reg: Reg, mask: u32, label: Label) {
        assert!(mask <= i32::MAX as u32);
        self.imm_to(TMP0, mask as u64);
        dynasm!(self.ops ; .arch aarch64 ; tst X(num(reg)), x16 ; b.eq =>label);
    }

    /// Jump if `reg > imm` as unsigned 64-bit values (`imm` a positive 31-bit value).
    pub fn jump_if_above_imm(&mut self, reg: Reg, imm: u32, label: Label) {
        assert!(imm <= i32::MAX as u32);
        self.cmp_imm(num(reg), imm as i64);
        self.bcond(Cc::Hi, label);
    }

    /// `dst &= imm` (`imm` a positive 31-bit value).
    pub fn i_and_imm(&mut self, dst: Reg, imm: u32) {
        assert!(imm <= i32::MAX as u32);
        let d = num(dst);
        self.imm_to(TMP0, imm as u64);
        dynasm!(self.ops ; .arch aarch64 ; and X(d), X(d), x16);
    }

    /// `dst = -dst` (two's complement).
    pub fn i_neg(&mut self, dst: Reg) {
        let d = num(dst);
        dynasm!(self.ops ; .arch aarch64 ; neg X(d), X(d));
    }

    /// `dst <<= n` (`n` < 64).
    pub fn i_shl_imm(&mut self, dst: Reg, n: u8) {
        assert!(n < 64);
        let d = num(dst);
        let n = n as u32;
        dynasm!(self.ops ; .arch aarch64 ; lsl X(d), X(d), n);
    }

    /// Py_DECREF(reg) without the deallocation: when the count drops to zero, jump to
    /// `dealloc` (with `reg` intact), which must deallocate the object and come back.
    pub fn decref_or_jump(&mut self, reg: Reg, dealloc: Label) {
        let r = num(reg);
        if self.refcounts == RefcountModel::Immortal {
            dynasm!(self.ops ; .arch aarch64 ; ldr w16, [X(r)] ; tbnz w16, #31, >done);
        }
        dynasm!(self.ops ; .arch aarch64
            ; ldr x16, [X(r)]
            ; subs x16, x16, #1
            ; str x16, [X(r)]
            ; b.eq =>dealloc
            ; done:
        );
    }

    // --- Subroutines called from compiled code (the direct-call routine). ---

    /// Start of a subroutine entered by a call from compiled code (`call` with no
    /// arguments): saves the frame record (the return address). It may use every register
    /// but the pinned frame and thread state, and must end with `subroutine_return`.
    pub fn subroutine_enter(&mut self) {
        dynasm!(self.ops ; .arch aarch64 ; stp x29, x30, [sp, #-16]! ; mov x29, sp);
    }

    /// Return from a subroutine (the result, if any, in R0).
    pub fn subroutine_return(&mut self) {
        dynasm!(self.ops ; .arch aarch64 ; ldp x29, x30, [sp], #16 ; ret);
    }

    /// `dst` = the machine stack pointer.
    pub fn load_stack_pointer(&mut self, dst: Reg) {
        dynasm!(self.ops ; .arch aarch64 ; mov XSP(num(dst)), sp);
    }

    /// `dst = *(u64 *)addr`.
    pub fn load_absolute(&mut self, dst: Reg, addr: usize) {
        self.imm_to(TMP0, addr as u64);
        dynasm!(self.ops ; .arch aarch64 ; ldr X(num(dst)), [x16]);
    }

    /// Unsigned compare and jump.
    pub fn u_jump_if(&mut self, cond: Cond, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch aarch64 ; cmp X(num(a)), X(num(b)));
        let cc = match cond {
            Cond::Lt => Cc::Lo,
            Cond::Le => Cc::Ls,
            Cond::Eq => Cc::Eq,
            Cond::Ne => Cc::Ne,
            Cond::Gt => Cc::Hi,
            Cond::Ge => Cc::Hs,
        };
        self.bcond(cc, label);
    }

    /// `dst = *(i32 *)(tstate + disp)`, sign-extended.
    pub fn load_tstate_field_i32(&mut self, dst: Reg, disp: usize) {
        self.mem(Mem::LdrSW, num(dst), TSTATE, disp as i32);
    }

    /// `*(i32 *)(tstate + disp) += imm`.
    pub fn add_tstate_field_i32(&mut self, disp: usize, imm: i32) {
        self.mem(Mem::LdrW, TMP0, TSTATE, disp as i32);
        if (0..4096).contains(&imm) {
            let i = imm as u32;
            dynasm!(self.ops ; .arch aarch64 ; add w16, w16, i);
        } else if (-4095..0).contains(&imm) {
            let i = (-imm) as u32;
            dynasm!(self.ops ; .arch aarch64 ; sub w16, w16, i);
        } else {
            self.imm_to(TMP1, imm as u32 as u64);
            dynasm!(self.ops ; .arch aarch64 ; add w16, w16, w17);
        }
        self.mem(Mem::StrW, TMP0, TSTATE, disp as i32);
    }

    /// `*(u64 *)(tstate + disp) = src`.
    pub fn store_tstate_field(&mut self, disp: usize, src: Reg) {
        self.mem(Mem::StrX, num(src), TSTATE, disp as i32);
    }

    /// `dst` = the address of frame slot `slot` (`&localsplus[slot]`).
    pub fn slot_address(&mut self, dst: Reg, slot: u32) {
        let disp = self.slot_disp(slot);
        self.add_imm(num(dst), FRAME, disp as i64);
    }

    /// Call the C function whose address is in `target` (S0 or S1, never an argument
    /// register) with `args`; the result is in R0.
    pub fn call_indirect(&mut self, target: Reg, args: &[Arg]) {
        assert!(matches!(target, Reg::S0 | Reg::S1), "call_indirect target {target:?}");
        assert!(args.iter().all(|a| !matches!(a, Arg::Reg(r) if *r == target)));
        self.set_arguments(args);
        dynasm!(self.ops ; .arch aarch64 ; blr X(num(target)));
    }

    /// The assembled bytes, with every label resolved.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        if !self.consts.is_empty() {
            dynasm!(self.ops ; .arch aarch64 ; .align 8);
            for (label, bits) in std::mem::take(&mut self.consts) {
                dynasm!(self.ops ; .arch aarch64 ; =>label ; .u64 bits);
            }
        }
        self.ops.finalize().map_err(|e| format!("assembler: {e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(f: impl FnOnce(&mut Assembler)) -> Vec<u8> {
        let mut a = Assembler::new(72, RefcountModel::Plain, 0x1122334455667788);
        f(&mut a);
        a.finish().unwrap()
    }

    /// Little-endian bytes of instruction words (as binutils' objdump prints them).
    fn words(w: &[u32]) -> Vec<u8> {
        w.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    // Expected words below come from GNU as (aarch64-linux-gnu-as), not from dynasm.

    #[test]
    fn slot_loads_and_stores_address_localsplus() {
        // ldr x0, [x19, #88] (72 + 8*2)
        assert_eq!(bytes(|a| a.load_slot(Reg::R0, 2)), words(&[0xf9402e60]));
        // str x21, [x19, #80]
        assert_eq!(bytes(|a| a.store_slot(1, Reg::S0)), words(&[0xf9002a75]));
        // Beyond the scaled 12-bit offset: mov x17, #40072 ; ldr x0, [x19, x17]
        assert_eq!(bytes(|a| a.load_slot(Reg::R0, 5000)), words(&[0xd2939111, 0xf8716a60]));
    }

    #[test]
    fn prologue_saves_frame_record_and_pinned_registers() {
        // stp x29, x30, [sp, #-80]! ; mov x29, sp ; stp x19, x20, [sp, #16] ;
        // stp x21, x22, [sp, #32] ; stp x23, x24, [sp, #48] ; str x25, [sp, #64] ;
        // mov x19, x1 ; mov x20, x0   (GNU as)
        assert_eq!(
            bytes(|a| a.prologue()),
            words(&[
                0xa9bb7bfd, 0x910003fd, 0xa90153f3, 0xa9025bf5, 0xa90363f7, 0xf90023f9, 0xaa0103f3,
                0xaa0003f4
            ])
        );
    }

    #[test]
    fn incref_models() {
        // ldr x16, [x0] ; add x16, x16, #1 ; str x16, [x0]
        assert_eq!(bytes(|a| a.incref(Reg::R0)), words(&[0xf9400010, 0x91000610, 0xf9000010]));
        // 3.12: ldr w16, [x0] ; add w16, w16, #1 ; cbz w16, skip ; str w16, [x0] ; skip:
        let mut a = Assembler::new(72, RefcountModel::Immortal, 0);
        a.incref(Reg::R0);
        assert_eq!(a.finish().unwrap(), words(&[0xb9400010, 0x11000610, 0x34000050, 0xb9000010]));
    }

    #[test]
    fn call_arguments_move_without_clobbering() {
        // R3 (x3) -> arg0 (x0) and R0 (x0) -> arg1 (x1): x1 must be written first;
        // then mov x16, #0 ; blr x16.
        let code = bytes(|a| a.call(0, &[Arg::Reg(Reg::R3), Arg::Reg(Reg::R0)]));
        assert_eq!(code, words(&[0xaa0003e1, 0xaa0303e0, 0xd2800010, 0xd63f0200]));
        // A swap goes through x16: mov x16, x1 ; mov x1, x0 ; mov x0, x16.
        let code = bytes(|a| a.call(0, &[Arg::Reg(Reg::R1), Arg::Reg(Reg::R0)]));
        assert_eq!(&code[..12], &words(&[0xaa0103f0, 0xaa0003e1, 0xaa1003e0])[..]);
    }

    #[test]
    fn multiply_overflow_compares_high_half_with_sign_of_low_half() {
        // smulh x16, x1, x2 ; mul x1, x1, x2 ; cmp x16, x1, asr #63 ; b.ne (the next instruction)
        let code = bytes(|a| {
            let l = a.new_label();
            a.i_arith(IOp::Mul, Reg::R1, Reg::R2, l);
            a.bind(l);
        });
        assert_eq!(code, words(&[0x9b427c30, 0x9b027c21, 0xeb81fe1f, 0x54000021]));
    }

    #[test]
    fn immediates_take_the_fewest_pieces() {
        let n = |v: u64| bytes(|a| a.load_imm(Reg::R0, v)).len() / 4;
        assert_eq!(n(0), 1);
        assert_eq!(n(0xffff), 1);
        assert_eq!(n(u64::MAX), 1);
        assert_eq!(n((-2i64) as u64), 1);
        assert_eq!(n(0x7fff_0000_1234), 2);
        assert_eq!(n(0x1122_3344_5566_7788), 4);
    }

    #[test]
    fn spill_offsets_and_sizes() {
        // ldr d3, [sp, #16]
        assert_eq!(bytes(|a| a.load_spill_f(FReg::F3, 2)), words(&[0xfd400be3]));
        // sub sp, sp, #64 / add sp, sp, #64
        assert_eq!(bytes(|a| a.reserve_spill(64)), words(&[0xd10103ff]));
        assert_eq!(bytes(|a| a.release_spill(64)), words(&[0x910103ff]));
        // fdiv d1, d1, d2
        assert_eq!(bytes(|a| a.f_arith(FOp::Div, FReg::F1, FReg::F2)), words(&[0x1e621821]));
        assert_eq!(bytes(|a| a.f_sqrt(FReg::F1)), words(&[0x1e61c021]));
    }

    #[test]
    fn binade_range_and_constant_pool() {
        // fmov x16, d1 ; lsr x16, x16, #52 ; sub x16, x16, #895 ; cmp x16, #255 ; b.hi end ;
        // ldr d31, k ; fmadd d4, d4, d31, d1 ; ldr d31, two ; fmul d2, d2, d31 ;
        // ldr d31, k ; fadd d5, d5, d31 ; end: (pad to 8) k: .8byte ; two: .8byte
        // (GNU as pads with a nop; dynasm with zeros.)
        let k = f64::from_bits(0x3ff0_b0b0_b0b0_b0b1);
        let code = bytes(|a| {
            let end = a.new_label();
            a.jump_unless_binades(FReg::F1, -128, 128, end);
            a.f_fused_mul_add_const(FReg::F4, k, FReg::F1);
            a.f_arith_const(FOp::Mul, FReg::F2, 2.0);
            a.f_arith_const(FOp::Add, FReg::F5, k);
            a.bind(end);
        });
        assert_eq!(
            code,
            words(&[
                0x9e660030, 0xd374fe10, 0xd10dfe10, 0xf103fe1f, 0x540000e8, 0x5c0000ff, 0x1f5f0484, 0x5c0000ff,
                0x1e7f0842, 0x5c00007f, 0x1e7f28a5, 0, 0xb0b0b0b1, 0x3ff0b0b0, 0, 0x40000000
            ])
        );
    }

    #[test]
    fn narrow_numpy_elements() {
        // ldrsw x1, [x3, #16] ; ldursw x1, [x3, #-4] ; str w2, [x21, #20]
        assert_eq!(bytes(|a| a.load_field_i32(Reg::R1, Reg::R3, 16)), words(&[0xb9801061]));
        assert_eq!(bytes(|a| a.load_field_i32(Reg::R1, Reg::R3, -4)), words(&[0xb89fc061]));
        assert_eq!(bytes(|a| a.store_field_i32(Reg::S0, 20, Reg::R2)), words(&[0xb90016a2]));
        // cmp x1, w1, sxtw ; b.ne (the next instruction)
        let code = bytes(|a| {
            let l = a.new_label();
            a.jump_if_not_i32(Reg::R1, l);
            a.bind(l);
        });
        assert_eq!(code, words(&[0xeb21c03f, 0x54000021]));
        // ldr s4, [x21, #8] ; fcvt d4, s4
        assert_eq!(bytes(|a| a.f_load_f32(FReg::F4, Reg::S0, 8)), words(&[0xbd400aa4, 0x1e22c084]));
        // fcvt s0, d0 ; str s0, [x21, #12]
        assert_eq!(bytes(|a| a.f_store_f32(Reg::S0, 12, FReg::F0)), words(&[0x1e624000, 0xbd000ea0]));
        // fcvt s2, d2 ; fcvt d2, s2
        assert_eq!(bytes(|a| a.f_round_f32(FReg::F2)), words(&[0x1e624042, 0x1e22c042]));
        // fcvtzs x0, d1
        assert_eq!(bytes(|a| a.f_to_i64_trunc(Reg::R0, FReg::F1)), words(&[0x9e780020]));
        // sdiv x16, x1, x3 ; msub x3, x16, x3, x1 ; mov x1, x16
        assert_eq!(bytes(|a| a.i_div_rem(Reg::R1, Reg::R3)), words(&[0x9ac30c30, 0x9b038603, 0xaa1003e1]));
    }

    #[test]
    fn unsigned_bounds_checks() {
        // cmp x1, x2 ; b.lo (two instructions on) / b.hs (two instructions on)
        let code = bytes(|a| {
            let l = a.new_label();
            a.u_jump_if_below(Reg::R1, Reg::R2, l);
            a.bind(l);
            let m = a.new_label();
            a.u_jump_if_not_below(Reg::R1, Reg::R2, m);
            a.bind(m);
        });
        assert_eq!(code, words(&[0xeb02003f, 0x54000023, 0xeb02003f, 0x54000022]));
    }

    #[test]
    fn tier1_inline_fast_path_operations() {
        // ldr x1, [x19, #24] ; ldr w0, [x2, #12] ; ldur w0, [x2, #-4] ; ldr x0, [x1, x2, lsl #3]
        assert_eq!(bytes(|a| a.load_frame_field(Reg::R1, 24)), words(&[0xf9400e61]));
        assert_eq!(bytes(|a| a.load_field_u32(Reg::R0, Reg::R2, 12)), words(&[0xb9400c40]));
        assert_eq!(bytes(|a| a.load_field_u32(Reg::R0, Reg::R2, -4)), words(&[0xb85fc040]));
        assert_eq!(bytes(|a| a.load_field_indexed(Reg::R0, Reg::R1, Reg::R2)), words(&[0xf8627820]));
        let next = |f: &dyn Fn(&mut Assembler, Label)| {
            bytes(|a| {
                let l = a.new_label();
                f(a, l);
                a.bind(l);
            })
        };
        // ldr x16, [x1, #8] ; cmp x3, x16 ; b.ne (the next instruction)
        assert_eq!(next(&|a, l| a.jump_if_field_not_equal(Reg::R3, Reg::R1, 8, l)), words(&[0xf9400430, 0xeb10007f, 0x54000021]));
        // ldr w16, [x3, #8] ; cmp w0, w16 ; b.ne
        assert_eq!(next(&|a, l| a.jump_if_field_u32_not_equal(Reg::R0, Reg::R3, 8, l)), words(&[0xb9400870, 0x6b10001f, 0x54000021]));
        // cmp x0, x1 ; b.ne
        assert_eq!(next(&|a, l| a.jump_if_not_equal_reg(Reg::R0, Reg::R1, l)), words(&[0xeb01001f, 0x54000021]));
        // mov x16, #1 ; tst x0, x16 ; b.eq
        assert_eq!(next(&|a, l| a.jump_if_bits_clear(Reg::R0, 1, l)), words(&[0xd2800030, 0xea10001f, 0x54000020]));
        // cmp x2, #15 ; b.hi
        assert_eq!(next(&|a, l| a.jump_if_above_imm(Reg::R2, 15, l)), words(&[0xf1003c5f, 0x54000028]));
        // mov x16, #3 ; and x2, x2, x16 ; neg x2, x2 ; lsl x21, x21, #5
        assert_eq!(bytes(|a| a.i_and_imm(Reg::R2, 3)), words(&[0xd2800070, 0x8a100042]));
        assert_eq!(bytes(|a| a.i_neg(Reg::R2)), words(&[0xcb0203e2]));
        assert_eq!(bytes(|a| a.i_shl_imm(Reg::S0, 5)), words(&[0xd37beab5]));
        // 3.12: ldr w16, [x0] ; tbnz w16, #31, done ; ldr x16, [x0] ; subs x16, x16, #1 ;
        // str x16, [x0] ; b.eq dealloc ; done: (dealloc bound right after)
        let mut a = Assembler::new(72, RefcountModel::Immortal, 0);
        let l = a.new_label();
        a.decref_or_jump(Reg::R0, l);
        a.bind(l);
        assert_eq!(a.finish().unwrap(), words(&[0xb9400010, 0x37f800b0, 0xf9400010, 0xf1000610, 0xf9000010, 0x54000020]));
    }

    #[test]
    fn direct_call_routine_operations() {
        // stp x29, x30, [sp, #-16]! ; mov x29, sp / ldp x29, x30, [sp], #16 ; ret
        assert_eq!(bytes(|a| a.subroutine_enter()), words(&[0xa9bf7bfd, 0x910003fd]));
        assert_eq!(bytes(|a| a.subroutine_return()), words(&[0xa8c17bfd, 0xd65f03c0]));
        // mov x1, sp ; mov x16, #0x1234 ; ldr x0, [x16]
        assert_eq!(bytes(|a| a.load_stack_pointer(Reg::R1)), words(&[0x910003e1]));
        assert_eq!(bytes(|a| a.load_absolute(Reg::R0, 0x1234)), words(&[0xd2824690, 0xf9400200]));
        // cmp x0, x1 ; b.hs (the next instruction)
        let code = bytes(|a| {
            let l = a.new_label();
            a.u_jump_if(Cond::Ge, Reg::R0, Reg::R1, l);
            a.bind(l);
        });
        assert_eq!(code, words(&[0xeb01001f, 0x54000022]));
        // ldrsw x0, [x20, #28] ; ldr w16, [x20, #36] ; sub w16, w16, #1 ; str w16, [x20, #36]
        assert_eq!(bytes(|a| a.load_tstate_field_i32(Reg::R0, 28)), words(&[0xb9801e80]));
        assert_eq!(bytes(|a| a.add_tstate_field_i32(36, -1)), words(&[0xb9402690, 0x51000610, 0xb9002690]));
        // str x1, [x20, #240] ; add x1, x19, #88
        assert_eq!(bytes(|a| a.store_tstate_field(240, Reg::R1)), words(&[0xf9007a81]));
        assert_eq!(bytes(|a| a.slot_address(Reg::R1, 2)), words(&[0x91016261]));
        // mov x16, #0x1000 ; ldr x17, [x16] ; ldur x16, [x16, #7] ; orr x16, x16, x17 ;
        // cbnz x16, (the next instruction)
        let code = bytes(|a| {
            let l = a.new_label();
            a.jump_if_either_u64_at_nonzero(0x1000, 7, l);
            a.bind(l);
        });
        assert_eq!(code, words(&[0xd2820010, 0xf9400211, 0xf8407210, 0xaa110210, 0xb5000030]));
        // mov x16, #0x2000 ; ldr x17, [x16] ; add x17, x17, #1 ; str x17, [x16] ;
        // mov x16, #0xff ; tst x17, x16 ; b.ne (the next instruction)
        let code = bytes(|a| {
            let l = a.new_label();
            a.increment_u64_at_and_jump_if_masked(0x2000, 0xff, l);
            a.bind(l);
        });
        assert_eq!(code, words(&[0xd2840010, 0xf9400211, 0x91000631, 0xf9000211, 0xd2801ff0, 0xea10023f, 0x54000021]));
        // mov x1, x22 ; mov x0, x20 ; blr x21
        assert_eq!(
            bytes(|a| a.call_indirect(Reg::S0, &[Arg::Tstate, Arg::Reg(Reg::S1)])),
            words(&[0xaa1603e1, 0xaa1403e0, 0xd63f02a0])
        );
    }


    /// Runs the tier-1 inline operations on fake objects and checks every branch both ways.
    /// `run(body)` assembles `prologue; body` and calls it with a frame whose localsplus
    /// (at offset 0) is `frame`.
    #[allow(dead_code)]
    pub(crate) fn check_tier1_inline_operations(run: &dyn Fn(RefcountModel, &mut [u64], &dyn Fn(&mut Assembler)) -> u64) {
        // An "object": [refcount, field1 (low u32 = 7, high u32 = 9), field2 = -3].
        let mut obj = [5u64, (9u64 << 32) | 7, (-3i64) as u64, 0];
        let p = obj.as_mut_ptr() as u64;
        let yes_no = |frame: &mut [u64], f: &dyn Fn(&mut Assembler, Label)| -> u64 {
            run(RefcountModel::Plain, frame, &|a| {
                let taken = a.new_label();
                f(a, taken);
                a.load_imm(Reg::R0, 0);
                a.ret(Reg::R0);
                a.bind(taken);
                a.load_imm(Reg::R0, 1);
                a.ret(Reg::R0);
            })
        };
        let mut frame = [p, 7, (9u64 << 32) | 7, 0];
        // u64 and u32 field compares.
        for (value, equal64, equal32) in [((9u64 << 32) | 7, true, true), (7, false, true), (8, false, false)] {
            frame[1] = value;
            let ne64 = yes_no(&mut frame, &|a, l| {
                a.load_slot(Reg::R1, 0);
                a.load_slot(Reg::R2, 1);
                a.jump_if_field_not_equal(Reg::R2, Reg::R1, 8, l);
            });
            assert_eq!(ne64 == 0, equal64, "{value:#x}");
            let ne32 = yes_no(&mut frame, &|a, l| {
                a.load_slot(Reg::R1, 0);
                a.load_slot(Reg::S1, 1);
                a.jump_if_field_u32_not_equal(Reg::S1, Reg::R1, 8, l);
            });
            assert_eq!(ne32 == 0, equal32, "{value:#x}");
        }
        // Loads: u32 zero-extended, indexed, frame header field.
        let r = run(RefcountModel::Plain, &mut frame, &|a| {
            a.load_slot(Reg::R1, 0);
            a.load_field_u32(Reg::R0, Reg::R1, 12); // 9
            a.load_imm(Reg::R2, 2);
            a.load_field_indexed(Reg::R3, Reg::R1, Reg::R2); // -3
            a.i_add(Reg::R0, Reg::R3); // 6
            a.load_frame_field(Reg::R2, 8); // frame[1]
            a.i_add(Reg::R0, Reg::R2);
            a.ret(Reg::R0);
        });
        assert_eq!(r, 6 + frame[1]);
        // Register compare, bit test, unsigned compare with an immediate.
        for (x, y) in [(3u64, 3u64), (3, 4), (u64::MAX, 15), (15, 16), (16, 15), (0, 1)] {
            frame[1] = x;
            frame[2] = y;
            let ne = yes_no(&mut frame, &|a, l| {
                a.load_slot(Reg::R0, 1);
                a.load_slot(Reg::R3, 2);
                a.jump_if_not_equal_reg(Reg::R0, Reg::R3, l);
            });
            assert_eq!(ne == 1, x != y);
            let clear = yes_no(&mut frame, &|a, l| {
                a.load_slot(Reg::R2, 1);
                a.jump_if_bits_clear(Reg::R2, 1, l);
            });
            assert_eq!(clear == 1, x & 1 == 0);
            let above = yes_no(&mut frame, &|a, l| {
                a.load_slot(Reg::S0, 1);
                a.jump_if_above_imm(Reg::S0, 15, l);
            });
            assert_eq!(above == 1, x > 15, "{x}");
        }
        // and/neg/shl: (1 - (tag & 3)) * 5 << 2 for the three signs of a 3.12 int tag.
        for (tag, expect) in [(8u64, 20i64), (1, 0), (10, -20)] {
            frame[1] = tag;
            let r = run(RefcountModel::Plain, &mut frame, &|a| {
                a.load_slot(Reg::R1, 1);
                a.i_and_imm(Reg::R1, 3);
                a.i_neg(Reg::R1);
                a.i_add_imm(Reg::R1, 1);
                a.load_imm(Reg::R0, 5);
                a.i_mul(Reg::R0, Reg::R1);
                a.i_shl_imm(Reg::R0, 2);
                a.ret(Reg::R0);
            });
            assert_eq!(r as i64, expect, "tag {tag}");
        }
        // decref_or_jump: jumps only when the count reaches zero; 3.12 immortals never change.
        for (model, start, after, jumped) in [
            (RefcountModel::Plain, 2u64, 1u64, false),
            (RefcountModel::Plain, 1, 0, true),
            (RefcountModel::Immortal, 1, 0, true),
            (RefcountModel::Immortal, 0xffff_ffff, 0xffff_ffff, false),
        ] {
            obj[0] = start;
            let r = run(model, &mut frame, &|a| {
                let zero = a.new_label();
                a.load_slot(Reg::S0, 0);
                a.decref_or_jump(Reg::S0, zero);
                a.load_imm(Reg::R0, 0);
                a.ret(Reg::R0);
                a.bind(zero);
                a.load_field(Reg::R0, Reg::S0, 0);
                a.i_add_imm(Reg::R0, 100);
                a.ret(Reg::R0);
            });
            assert_eq!(obj[0], after);
            assert_eq!(r, if jumped { 100 } else { 0 });
        }
    }


    /// Runs the direct-call routine's operations: a subroutine called from compiled code
    /// (stack alignment for the calls it makes), indirect calls, tstate fields, stack pointer,
    /// absolute loads, unsigned compares. `run(tstate, frame, body)` as above, plus the
    /// thread-state pointer; `sub` is a callable address that returns `x * 2 + 1` after
    /// calling a C function that checks the stack alignment.
    #[allow(dead_code)]
    pub(crate) fn check_subroutine_operations(
        run: &dyn Fn(*mut u8, &mut [u64], &dyn Fn(&mut Assembler)) -> u64,
        make_sub: &dyn Fn(&dyn Fn(&mut Assembler)) -> (usize, Box<dyn std::any::Any>),
    ) {
        extern "C" fn aligned_double(x: u64) -> u64 {
            let marker = 0u128; // 16-byte aligned if the stack is
            assert_eq!(std::ptr::addr_of!(marker) as usize % 16, 0, "misaligned stack");
            x * 2
        }
        static WORD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(77);
        // The subroutine: R0 = aligned_double(R1) + 1, through an indirect call.
        let (sub, _keep) = make_sub(&|a| {
            a.subroutine_enter();
            a.load_imm(Reg::S1, aligned_double as usize as u64);
            a.call_indirect(Reg::S1, &[Arg::Reg(Reg::R1)]);
            a.i_add_imm(Reg::R0, 1);
            a.subroutine_return();
        });
        let mut tstate = [0u64; 8];
        tstate[2] = 40; // an i32 field at 16 and a u64 field at 24
        tstate[3] = 5;
        let ts = tstate.as_mut_ptr() as *mut u8;
        let mut frame = [0u64, 0, 0, 0];
        let r = run(ts, &mut frame, &|a| {
            a.load_imm(Reg::R1, 20);
            a.call(sub, &[]);
            a.mov(Reg::S0, Reg::R0); // 41
            a.load_tstate_field_i32(Reg::R1, 16); // 40
            a.add_tstate_field_i32(16, -3); // 37
            a.add_tstate_field_i32(16, 1); // 38
            a.i_add(Reg::S0, Reg::R1); // 81
            a.load_absolute(Reg::R2, WORD.as_ptr() as usize); // 77
            a.i_add(Reg::S0, Reg::R2); // 158
            a.slot_address(Reg::R3, 2);
            a.store_tstate_field(24, Reg::R3);
            a.load_stack_pointer(Reg::R1);
            a.store_slot(1, Reg::R1);
            a.mov(Reg::R0, Reg::S0);
            a.ret(Reg::R0);
        });
        assert_eq!(r, 158);
        assert_eq!(tstate[2] as u32, 38);
        // Two words (overlapping at an unaligned offset, as the 15 monitoring tool bytes).
        let mut words = [0u64; 3];
        for (set, expect) in [(None, false), (Some(0), true), (Some(7), true), (Some(14), true), (Some(15), false)] {
            words = [0; 3];
            if let Some(byte) = set {
                unsafe { *(words.as_mut_ptr() as *mut u8).add(byte) = 1 };
            }
            let addr = words.as_ptr() as usize;
            let r = run(ts, &mut frame, &|a| {
                let yes = a.new_label();
                a.jump_if_either_u64_at_nonzero(addr, 7, yes);
                a.load_imm(Reg::R0, 0);
                a.ret(Reg::R0);
                a.bind(yes);
                a.load_imm(Reg::R0, 1);
                a.ret(Reg::R0);
            });
            assert_eq!(r == 1, expect, "byte {set:?}");
        }
        let _ = words;
        // A counter incremented and tested against a mask.
        static COUNTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(6);
        for expect in [true, false, true] {
            let r = run(ts, &mut frame, &|a| {
                let yes = a.new_label();
                a.increment_u64_at_and_jump_if_masked(COUNTS.as_ptr() as usize, 1, yes);
                a.load_imm(Reg::R0, 0);
                a.ret(Reg::R0);
                a.bind(yes);
                a.load_imm(Reg::R0, 1);
                a.ret(Reg::R0);
            });
            assert_eq!(r == 1, expect);
        }
        assert_eq!(COUNTS.load(std::sync::atomic::Ordering::SeqCst), 9);
        assert_eq!(tstate[3], &frame[2] as *const u64 as u64);
        let sp = frame[1] as usize;
        let here = 0u8;
        let here = std::ptr::addr_of!(here) as usize;
        assert!(sp < here && here - sp < 1 << 20, "stack pointer {sp:#x} near {here:#x}");
        // Unsigned compares, both ways.
        for (x, y) in [(1u64, 2u64), (2, 2), (u64::MAX, 1), (1, u64::MAX)] {
            for (cond, expect) in [
                (Cond::Lt, x < y), (Cond::Le, x <= y), (Cond::Eq, x == y),
                (Cond::Ne, x != y), (Cond::Gt, x > y), (Cond::Ge, x >= y),
            ] {
                frame[0] = x;
                frame[1] = y;
                let r = run(ts, &mut frame, &|a| {
                    let yes = a.new_label();
                    a.load_slot(Reg::R1, 0);
                    a.load_slot(Reg::R2, 1);
                    a.u_jump_if(cond, Reg::R1, Reg::R2, yes);
                    a.load_imm(Reg::R0, 0);
                    a.ret(Reg::R0);
                    a.bind(yes);
                    a.load_imm(Reg::R0, 1);
                    a.ret(Reg::R0);
                });
                assert_eq!(r == 1, expect, "{x} {cond:?} {y}");
            }
        }
    }

    /// Executing tests: assemble, place in executable memory, run (natively or under qemu).
    #[cfg(target_arch = "aarch64")]
    mod exec {
        use super::*;
        use crate::codemem::CodeBlock;
        use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

        type Entry = unsafe extern "C" fn(*mut u8, *mut u64) -> u64;

        /// Assemble `prologue; body` (the body ends with `ret`) and call it with
        /// `(tstate, frame)`; `frame` is the fake frame's slots (localsplus at offset 0).
        fn run(model: RefcountModel, dealloc: usize, tstate: *mut u8, frame: &mut [u64], body: impl FnOnce(&mut Assembler)) -> u64 {
            let mut a = Assembler::new(0, model, dealloc);
            a.prologue();
            body(&mut a);
            let code = a.finish().unwrap();
            let block = CodeBlock::new(&code).unwrap();
            let f: Entry = unsafe { std::mem::transmute(block.start()) };
            unsafe { f(tstate, frame.as_mut_ptr()) }
        }

        static SEEN: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

        extern "C" fn helper(a: u64, b: u64, frame: u64, tstate: u64) -> u64 {
            SEEN[0].store(frame, SeqCst);
            SEEN[1].store(tstate, SeqCst);
            a * b
        }

        #[test]
        fn prologue_load_imm_call_ret() {
            let mut frame = [0u64; 4];
            let tstate = 0x5eed_0000_1000usize as *mut u8;
            let result = run(RefcountModel::Plain, 0, tstate, &mut frame, |a| {
                a.load_imm(Reg::S0, 0x1122_3344_0000_0000);
                a.load_imm(Reg::R1, 6);
                a.call(helper as usize, &[Arg::Reg(Reg::R1), Arg::Imm(7), Arg::Frame, Arg::Tstate]);
                // S0 survives the call; the result is in R0.
                a.i_add(Reg::R0, Reg::S0);
                a.store_slot(1, Reg::R0);
                a.ret(Reg::R0);
            });
            assert_eq!(result, 0x1122_3344_0000_0000 + 42);
            assert_eq!(frame[1], result);
            assert_eq!(SEEN[0].load(SeqCst), frame.as_ptr() as u64);
            assert_eq!(SEEN[1].load(SeqCst), tstate as u64);
        }

        fn iop(op: IOp, x: i64, y: i64) -> Option<i64> {
            let mut frame = [x as u64, y as u64, 0];
            let ok = run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                let overflow = a.new_label();
                a.load_slot(Reg::R1, 0);
                a.load_slot(Reg::R2, 1);
                a.i_arith(op, Reg::R1, Reg::R2, overflow);
                a.store_slot(2, Reg::R1);
                a.load_imm(Reg::R0, 1);
                a.ret(Reg::R0);
                a.bind(overflow);
                a.load_imm(Reg::R0, 0);
                a.ret(Reg::R0);
            });
            (ok == 1).then_some(frame[2] as i64)
        }

        #[test]
        fn integer_overflow_jumps() {
            let values = [0, 1, -1, 2, -2, 3, 1 << 31, -(1 << 31), 1 << 32, (1 << 62) - 1, 1 << 62, -(1 << 62),
                          i64::MAX, i64::MIN, i64::MAX - 1, i64::MIN + 1, 3037000499, 3037000500, -3037000500];
            for &x in &values {
                for &y in &values {
                    assert_eq!(iop(IOp::Add, x, y), x.checked_add(y), "{x} + {y}");
                    assert_eq!(iop(IOp::Sub, x, y), x.checked_sub(y), "{x} - {y}");
                    assert_eq!(iop(IOp::Mul, x, y), x.checked_mul(y), "{x} * {y}");
                    assert_eq!(iop(IOp::Xor, x, y), Some(x ^ y));
                }
            }
        }

        #[test]
        fn integer_and_float_comparisons() {
            let conds = [Cond::Lt, Cond::Le, Cond::Eq, Cond::Ne, Cond::Gt, Cond::Ge];
            let expect = |c: Cond, o: std::cmp::Ordering| match c {
                Cond::Lt => o.is_lt(),
                Cond::Le => o.is_le(),
                Cond::Eq => o.is_eq(),
                Cond::Ne => o.is_ne(),
                Cond::Gt => o.is_gt(),
                Cond::Ge => o.is_ge(),
            };
            for (x, y) in [(-5i64, 3i64), (3, 3), (7, -1), (i64::MIN, i64::MAX)] {
                for c in conds {
                    let mut frame = [x as u64, y as u64];
                    let r = run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                        a.load_slot(Reg::R1, 0);
                        a.load_slot(Reg::R2, 1);
                        a.i_set_if(c, Reg::R0, Reg::R1, Reg::R2);
                        a.ret(Reg::R0);
                    });
                    assert_eq!(r == 1, expect(c, x.cmp(&y)), "{x} {c:?} {y}");
                    let (fx, fy) = (x as f64 / 3.0, y as f64 / 3.0);
                    let r = run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                        let yes = a.new_label();
                        a.f_load_bits(FReg::F2, fx.to_bits());
                        a.f_load_bits(FReg::F4, fy.to_bits());
                        a.f_set_if(c, Reg::R3, FReg::F2, FReg::F4);
                        a.f_jump_if(c, FReg::F2, FReg::F4, yes);
                        a.ret(Reg::R3);
                        a.bind(yes);
                        a.i_add_imm(Reg::R3, 10);
                        a.ret(Reg::R3);
                    });
                    let e = expect(c, fx.partial_cmp(&fy).unwrap()) as u64;
                    assert_eq!(r, e * 11, "{fx} {c:?} {fy}");
                    let r = run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                        let yes = a.new_label();
                        a.load_slot(Reg::R1, 0);
                        a.i_jump_if_imm(c, Reg::R1, y as i32, yes);
                        a.load_imm(Reg::R0, 0);
                        a.ret(Reg::R0);
                        a.bind(yes);
                        a.load_imm(Reg::R0, 1);
                        a.ret(Reg::R0);
                    });
                    assert_eq!(r == 1, expect(c, x.cmp(&(y as i32 as i64))), "{x} {c:?} imm {y}");
                }
            }
        }

        extern "C" fn combine(a: f64, b: f64) -> f64 {
            a * 10.0 + b
        }

        #[test]
        fn doubles_spill_area_and_call_f() {
            let mut frame = [0u64; 2];
            let bits = run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                a.reserve_spill(32);
                a.load_imm(Reg::R1, 3);
                a.f_from_i64(FReg::F0, Reg::R1);
                a.f_load_bits(FReg::F1, 0.5f64.to_bits());
                a.store_spill_f(3, FReg::F1);
                a.load_spill_f(FReg::F5, 3);
                a.f_arith(FOp::Div, FReg::F0, FReg::F5); // 6.0
                a.f_mov(FReg::F1, FReg::F5);
                a.call_f(combine as usize); // 60.5
                a.spill_addr(Reg::R2, 1);
                a.f_store_mem(Reg::R2, 0, FReg::F0);
                a.load_spill(Reg::R0, 1);
                a.release_spill(32);
                a.ret(Reg::R0);
            });
            assert_eq!(f64::from_bits(bits), 60.5);
        }

        #[test]
        fn double_classification() {
            let classify = |x: f64| -> u64 {
                let mut frame = [x.to_bits(), 0];
                run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                    let (nonfinite, zero, tiny, outside) = (a.new_label(), a.new_label(), a.new_label(), a.new_label());
                    a.load_slot(Reg::R1, 0);
                    a.f_from_bits(FReg::F3, Reg::R1);
                    a.jump_if_f_nonfinite(FReg::F3, nonfinite);
                    a.jump_if_f_zero(FReg::F3, zero);
                    a.jump_if_f_tiny(FReg::F3, tiny);
                    a.jump_unless_binades(FReg::F3, -400, 400, outside);
                    // 2x * 0.25 + x = 1.5x, through the constant pool.
                    a.f_mov(FReg::F0, FReg::F3);
                    a.f_arith_const(FOp::Mul, FReg::F0, 2.0);
                    a.f_fused_mul_add_const(FReg::F0, 0.25, FReg::F3);
                    a.reserve_spill(16);
                    a.store_spill_f(0, FReg::F0);
                    a.load_spill(Reg::R0, 0);
                    a.release_spill(16);
                    a.ret(Reg::R0);
                    for (label, code) in [(nonfinite, 1), (zero, 2), (tiny, 3), (outside, 4)] {
                        a.bind(label);
                        a.load_imm(Reg::R0, code);
                        a.ret(Reg::R0);
                    }
                })
            };
            assert_eq!(classify(f64::INFINITY), 1);
            assert_eq!(classify(f64::NAN), 1);
            assert_eq!(classify(-0.0), 2);
            assert_eq!(classify(0.0), 2);
            assert_eq!(classify(1e-310), 3);
            assert_eq!(classify(1e200), 4);
            assert_eq!(classify(1e-200), 4);
            assert_eq!(classify(-3.5), 4);
            let (top, bottom) = (2f64.powi(400), 2f64.powi(-400));
            assert_eq!(classify(top), 4);
            assert_eq!(classify(f64::from_bits(bottom.to_bits() - 1)), 4);
            for x in [1000.0, bottom, f64::from_bits(top.to_bits() - 1), 1.0, 0.75] {
                assert_eq!(f64::from_bits(classify(x)), 1.5 * x, "{x}");
            }
        }

        #[test]
        fn abs_above() {
            for (x, limit, above) in [(5i64, 5u64, false), (6, 5, true), (-5, 5, false), (-6, 5, true), (i64::MIN, 1 << 53, true), (0, 0, false)] {
                let mut frame = [x as u64];
                let r = run(RefcountModel::Plain, 0, std::ptr::null_mut(), &mut frame, |a| {
                    let yes = a.new_label();
                    a.load_slot(Reg::R1, 0);
                    a.jump_if_abs_above(Reg::R1, limit, yes);
                    a.load_imm(Reg::R0, 0);
                    a.ret(Reg::R0);
                    a.bind(yes);
                    a.load_imm(Reg::R0, 1);
                    a.ret(Reg::R0);
                });
                assert_eq!(r == 1, above, "|{x}| > {limit}");
            }
        }

        extern "C" fn fake_dealloc(obj: *mut u64) {
            unsafe { *obj.add(1) = 0xdead };
        }

        /// incref twice, decref three times, the object in frame slot 0; returns its refcount
        /// word and whether the fake dealloc ran on it.
        fn refcounts(model: RefcountModel, start: u64) -> (u64, bool) {
            let mut object = [start, 0u64];
            let mut frame = [object.as_mut_ptr() as u64];
            run(model, fake_dealloc as usize, std::ptr::null_mut(), &mut frame, |a| {
                a.load_slot(Reg::S0, 0);
                a.incref(Reg::S0);
                a.mov(Reg::R2, Reg::S0);
                a.incref(Reg::R2);
                for _ in 0..3 {
                    a.load_slot(Reg::R1, 0);
                    a.decref(Reg::R1); // clobbers R1
                }
                a.load_imm(Reg::R3, 0);
                a.xdecref(Reg::R3);
                a.ret(Reg::S0);
            });
            (object[0], object[1] == 0xdead)
        }

        #[test]
        fn refcount_models() {
            assert_eq!(refcounts(RefcountModel::Plain, 1), (0, true));
            assert_eq!(refcounts(RefcountModel::Plain, 5), (4, false));
            assert_eq!(refcounts(RefcountModel::Immortal, 1), (0, true));
            assert_eq!(refcounts(RefcountModel::Immortal, 5), (4, false));
            // 3.12's immortal count (UINT_MAX in the low half) never changes.
            assert_eq!(refcounts(RefcountModel::Immortal, 0xffff_ffff), (0xffff_ffff, false));
            // Negative as an int32: decref leaves it alone, incref still counts (as CPython does).
            assert_eq!(refcounts(RefcountModel::Immortal, 0x8000_0000), (0x8000_0002, false));
        }

        static COUNTER: AtomicU64 = AtomicU64::new(0);
        static BREAKER: AtomicU64 = AtomicU64::new(0);

        #[test]
        fn absolute_addresses_and_fields() {
            COUNTER.store(6, SeqCst);
            BREAKER.store(1 << 40, SeqCst); // the low 32 bits are zero
            let mut field = [0u64; 40];
            let mut frame = [field.as_mut_ptr() as u64, 0];
            let r = run(RefcountModel::Plain, 0, 0x77usize as *mut u8, &mut frame, |a| {
                let bad = a.new_label();
                a.increment_u64_at(COUNTER.as_ptr() as usize);
                a.jump_if_i32_at_nonzero(BREAKER.as_ptr() as usize, bad);
                a.jump_if_u64_at_masked(COUNTER.as_ptr() as usize, 0, bad);
                a.load_slot(Reg::R1, 0);
                a.i_add_field_imm(Reg::R1, 8 * 33, -5000);
                a.i_add_field_imm(Reg::R1, 8 * 33, 3);
                a.jump_if_u8_field_nonzero(Reg::R1, 0, bad);
                a.store_frame_field_imm(8, 0x1234_5678_9abc);
                a.store_frame_field_i32(8, -1);
                a.clear_slot(0);
                let yes = a.new_label();
                a.jump_if_u64_at_masked(COUNTER.as_ptr() as usize, 7, yes);
                a.jump(bad);
                a.bind(yes);
                let ok = a_label_ok(a);
                a.jump_if_u64_at_nonzero(BREAKER.as_ptr() as usize, ok);
                a.bind(bad);
                a.load_imm(Reg::R0, 0);
                a.ret(Reg::R0);
            });
            assert_eq!(r, 0x77);
            assert_eq!(COUNTER.load(SeqCst), 7);
            assert_eq!(field[33] as i64, -4997);
            assert_eq!(frame, [0, 0x1234_ffff_ffff]);
        }

        /// A label bound later in `absolute_addresses_and_fields`: returns tstate (x20).
        fn a_label_ok(a: &mut Assembler) -> Label {
            let ok = a.new_label();
            let skip = a.new_label();
            a.jump(skip);
            a.bind(ok);
            a.call(identity as usize, &[Arg::Tstate]);
            a.ret(Reg::R0);
            a.bind(skip);
            ok
        }

        extern "C" fn identity(x: u64) -> u64 {
            x
        }

        #[test]
        fn subroutine_operations_execute() {
            super::check_subroutine_operations(
                &|tstate, frame, body| run(RefcountModel::Plain, 0, tstate, frame, |a| body(a)),
                &|body| {
                    let mut a = Assembler::new(0, RefcountModel::Plain, 0);
                    body(&mut a);
                    let block = CodeBlock::new(&a.finish().unwrap()).unwrap();
                    (block.start() as usize, Box::new(block))
                },
            );
        }

        #[test]
        fn tier1_inline_operations_execute() {
            super::check_tier1_inline_operations(&|model, frame, body| run(model, 0, std::ptr::null_mut(), frame, |a| body(a)));
        }

        #[test]
        fn jump_reg_and_absolute() {
            // A second unit jumped to by address, which jumps back into the first (as tier 2's
            // entry and exits do), sharing the first unit's frame.
            let mut a = Assembler::new(0, RefcountModel::Plain, 0);
            a.prologue();
            a.load_imm(Reg::S1, 40);
            let target = a.new_label();
            // R0 = address of the second unit, filled in below through slot 0.
            a.load_slot(Reg::R0, 0);
            a.jump_reg(Reg::R0);
            let resume_offset = a.offset();
            a.bind(target);
            a.i_add_imm(Reg::S1, 2);
            a.ret(Reg::S1);
            let first = CodeBlock::new(&a.finish().unwrap()).unwrap();
            let mut b = Assembler::new(0, RefcountModel::Plain, 0);
            b.reserve_spill(16);
            b.store_spill(1, Reg::S1);
            b.release_spill(16);
            b.jump_absolute(first.start() as usize + resume_offset);
            let second = CodeBlock::new(&b.finish().unwrap()).unwrap();
            let mut frame = [second.start() as u64];
            let f: Entry = unsafe { std::mem::transmute(first.start()) };
            assert_eq!(unsafe { f(std::ptr::null_mut(), frame.as_mut_ptr()) }, 42);
        }
    }
}
