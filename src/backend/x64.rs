//! x86_64 implementation of the macro-assembler, with dynasm.
//!
//! System V ABI. Pinned: rbx = frame, r12 = thread state. Scratch: rax (R0), rcx (R1),
//! rdx (R2), rsi (R3). Callee-saved scratch: r13 (S0), r14 (S1; tier 2's integer home 1, so
//! tier-2 templates never use S1). The prologue saves rbx, r12-r15 (five pushes keep the
//! stack 16-byte aligned at calls). Double constants live in a pool after the code
//! (`finish` lays it out), read rip-relative.

use super::{Arg, Cond, FOp, FReg, IOp, Label, RefcountModel, Reg};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};

/// dynasm register numbers.
const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RBX: u8 = 3;
const RSI: u8 = 6;
const RDI: u8 = 7;
const R8: u8 = 8;
const R9: u8 = 9;
const R12: u8 = 12;
const R13: u8 = 13;
const R14: u8 = 14;
const R11: u8 = 11;

const FRAME: u8 = RBX;
const TSTATE: u8 = R12;
const ARG_REGS: [u8; 6] = [RDI, RSI, RDX, RCX, R8, R9];

fn num(reg: Reg) -> u8 {
    match reg {
        Reg::R0 => RAX,
        Reg::R1 => RCX,
        Reg::R2 => RDX,
        Reg::R3 => RSI,
        Reg::S0 => R13,
        Reg::S1 => R14,
        Reg::Home(0) => 15,
        Reg::Home(1) => R14,
        Reg::Home(2) => R8,
        Reg::Home(3) => R9,
        Reg::Home(_) => RDI,
    }
}

/// Integer home registers (tier 2): r15 and r14 (callee-saved: the prologue saves them and
/// nothing else uses them), r8, r9 and rdi (argument registers: written back around calls).
pub const I_HOMES: u8 = 5;

fn fnum(reg: FReg) -> u8 {
    match reg {
        FReg::F0 => 0,
        FReg::F1 => 1,
        FReg::F2 => 2,
        FReg::F3 => 3,
        FReg::F4 => 4,
        FReg::F5 => 5,
        FReg::Home(n) => 6 + n,
    }
}

/// Which integer home registers survive calls (r15 and r14 do; r8, r9 and rdi do not).
pub fn i_home_is_callee_saved(n: u8) -> bool {
    n <= 1
}

pub struct Assembler {
    ops: VecAssembler<X64Relocation>,
    /// Byte offset of `localsplus[0]` in the frame.
    localsplus: i32,
    refcounts: RefcountModel,
    dealloc: u64,
    /// Offset of the last label bound (code there may be reached by a jump).
    last_bind: usize,
    /// Double constants read by the code (rip-relative), laid out after it by `finish`.
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

    pub fn new_label(&mut self) -> Label {
        self.ops.new_dynamic_label()
    }

    pub fn bind(&mut self, label: Label) {
        dynasm!(self.ops ; .arch x64 ; =>label);
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

    /// Entry: `fn(tstate, frame) -> *mut PyObject`.
    pub fn prologue(&mut self) {
        dynasm!(self.ops ; .arch x64
            ; push rbx ; push r12 ; push r13 ; push r14 ; push r15
            ; mov rbx, rsi
            ; mov r12, rdi
        );
    }

    /// Return `reg` (a new reference, or null) to the caller.
    pub fn ret(&mut self, reg: Reg) {
        let r = num(reg);
        if r != RAX {
            dynasm!(self.ops ; .arch x64 ; mov rax, Rq(r));
        }
        dynasm!(self.ops ; .arch x64
            ; pop r15 ; pop r14 ; pop r13 ; pop r12 ; pop rbx
            ; ret
        );
    }

    fn slot_disp(&self, slot: u32) -> i32 {
        self.localsplus + 8 * slot as i32
    }

    pub fn load_slot(&mut self, dst: Reg, slot: u32) {
        let disp = self.slot_disp(slot);
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD [Rq(FRAME) + disp]);
    }

    pub fn store_slot(&mut self, slot: u32, src: Reg) {
        let disp = self.slot_disp(slot);
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(FRAME) + disp], Rq(num(src)));
    }

    pub fn clear_slot(&mut self, slot: u32) {
        let disp = self.slot_disp(slot);
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(FRAME) + disp], 0);
    }

    pub fn mov(&mut self, dst: Reg, src: Reg) {
        if dst != src {
            dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), Rq(num(src)));
        }
    }

    pub fn load_imm(&mut self, dst: Reg, value: u64) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD value as i64);
    }

    /// `dst = *(u64 *)(base + disp)`.
    pub fn load_field(&mut self, dst: Reg, base: Reg, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD [Rq(num(base)) + disp]);
    }

    /// `*(u64 *)(base + disp) = src`.
    pub fn store_field(&mut self, base: Reg, disp: i32, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(num(base)) + disp], Rq(num(src)));
    }

    /// `*(u64 *)(frame + disp) = value` for a frame header field.
    pub fn store_frame_field_imm(&mut self, disp: usize, value: u64) {
        let disp = disp as i32;
        if value <= i32::MAX as u64 {
            dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(FRAME) + disp], value as i32);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov r11, QWORD value as i64 ; mov QWORD [Rq(FRAME) + disp], r11);
        }
    }

    /// `*(i32 *)(frame + disp) = value`.
    pub fn store_frame_field_i32(&mut self, disp: usize, value: i32) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(FRAME) + disp], value);
    }

    /// Py_INCREF(reg).
    pub fn incref(&mut self, reg: Reg) {
        let r = num(reg);
        match self.refcounts {
            RefcountModel::Plain => dynasm!(self.ops ; .arch x64 ; add QWORD [Rq(r)], 1),
            RefcountModel::Immortal => {
                // 3.12: the low 32 bits saturate; an immortal object's count never changes.
                dynasm!(self.ops ; .arch x64
                    ; mov r11d, DWORD [Rq(r)]
                    ; add r11d, 1
                    ; jz >skip
                    ; mov DWORD [Rq(r)], r11d
                    ; skip:
                );
            }
        }
    }

    /// Py_DECREF(reg). May run arbitrary code (a destructor): scratch registers are clobbered.
    pub fn decref(&mut self, reg: Reg) {
        let r = num(reg);
        if self.refcounts == RefcountModel::Immortal {
            dynasm!(self.ops ; .arch x64 ; cmp DWORD [Rq(r)], 0 ; jl >done);
        }
        dynasm!(self.ops ; .arch x64
            ; sub QWORD [Rq(r)], 1
            ; jnz >done
            ; mov rdi, Rq(r)
            ; mov rax, QWORD self.dealloc as i64
            ; call rax
            ; done:
        );
    }

    /// Py_XDECREF(reg).
    pub fn xdecref(&mut self, reg: Reg) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; test Rq(r), Rq(r) ; jz >null);
        self.decref(reg);
        dynasm!(self.ops ; .arch x64 ; null:);
    }

    /// Call the C function at `addr` with `args`; the result is in R0.
    pub fn call(&mut self, addr: usize, args: &[Arg]) {
        self.set_arguments(args);
        dynasm!(self.ops ; .arch x64 ; mov rax, QWORD addr as i64 ; call rax);
    }

    /// Put `args` into the argument registers.
    fn set_arguments(&mut self, args: &[Arg]) {
        assert!(args.len() <= ARG_REGS.len());
        // Register arguments are read before any argument register is written, through r11
        // and the stack-free order below: first move register sources out of the way.
        let mut staged: Vec<(u8, Arg)> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            staged.push((ARG_REGS[i], *arg));
        }
        // Sources that are argument registers themselves (rsi, rdx, rcx) could be overwritten;
        // copy register sources to their targets in an order that never clobbers a pending one.
        let mut pending: Vec<(u8, u8)> = Vec::new(); // (dst, src) register moves
        for (dst, arg) in &staged {
            if let Arg::Reg(reg) = arg {
                pending.push((*dst, num(*reg)));
            }
        }
        self.parallel_moves(&mut pending);
        for (dst, arg) in staged {
            match arg {
                Arg::Reg(_) => {}
                Arg::Imm(v) => dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD v as i64),
                Arg::Slot(slot) => {
                    let disp = self.slot_disp(slot);
                    dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [Rq(FRAME) + disp]);
                }
                Arg::SlotAddr(slot) => {
                    let disp = self.slot_disp(slot);
                    dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [Rq(FRAME) + disp]);
                }
                Arg::Frame => dynasm!(self.ops ; .arch x64 ; mov Rq(dst), Rq(FRAME)),
                Arg::Tstate => dynasm!(self.ops ; .arch x64 ; mov Rq(dst), Rq(TSTATE)),
                Arg::SpillBase => dynasm!(self.ops ; .arch x64 ; mov Rq(dst), rsp),
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
                dynasm!(self.ops ; .arch x64 ; mov Rq(d), Rq(s));
            } else {
                // A cycle: break it through r11.
                let (d, s) = moves[0];
                dynasm!(self.ops ; .arch x64 ; mov r11, Rq(s));
                for m in moves.iter_mut() {
                    if m.1 == s {
                        m.1 = R11;
                    }
                }
                let _ = d;
            }
        }
    }

    pub fn jump(&mut self, label: Label) {
        dynasm!(self.ops ; .arch x64 ; jmp =>label);
    }

    pub fn jump_if_zero(&mut self, reg: Reg, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; test Rq(r), Rq(r) ; jz =>label);
    }

    pub fn jump_if_nonzero(&mut self, reg: Reg, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; test Rq(r), Rq(r) ; jnz =>label);
    }

    /// Jump if the low 32 bits of `reg`, as a signed int, are negative (C functions that
    /// return -1 on error).
    pub fn jump_if_negative_i32(&mut self, reg: Reg, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; test Rd(r), Rd(r) ; js =>label);
    }

    /// Jump if the low 32 bits of `reg` are nonzero.
    pub fn jump_if_nonzero_i32(&mut self, reg: Reg, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; test Rd(r), Rd(r) ; jnz =>label);
    }

    pub fn jump_if_equal_reg(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)) ; je =>label);
    }

    pub fn jump_if_equal_imm(&mut self, reg: Reg, value: u64, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD value as i64 ; cmp Rq(r), r11 ; je =>label);
    }

    pub fn jump_if_not_equal_imm(&mut self, reg: Reg, value: u64, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD value as i64 ; cmp Rq(r), r11 ; jne =>label);
    }

    /// Jump if the 32-bit value at absolute address `addr` is nonzero.
    pub fn jump_if_i32_at_nonzero(&mut self, addr: usize, label: Label) {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD addr as i64 ; cmp DWORD [r11], 0 ; jne =>label);
    }

    /// Jump if either 8-byte value at absolute address `addr` or `addr + disp` is nonzero.
    pub fn jump_if_either_u64_at_nonzero(&mut self, addr: usize, disp: i32, label: Label) {
        dynasm!(self.ops ; .arch x64
            ; mov r11, QWORD addr as i64
            ; mov r10, QWORD [r11]
            ; or r10, QWORD [r11 + disp]
            ; jnz =>label
        );
    }

    /// Jump if the 8-byte value at absolute address `addr` is nonzero.
    pub fn jump_if_u64_at_nonzero(&mut self, addr: usize, label: Label) {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD addr as i64 ; cmp QWORD [r11], 0 ; jne =>label);
    }

    /// `dst = *(u64 *)(tstate + disp)`.
    pub fn load_tstate_field(&mut self, dst: Reg, disp: usize) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD [Rq(TSTATE) + disp]);
    }

    /// Jump if the byte at `base + disp` is nonzero.
    pub fn jump_if_u8_field_nonzero(&mut self, base: Reg, disp: usize, label: Label) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; cmp BYTE [Rq(num(base)) + disp], 0 ; jne =>label);
    }

    /// Jump if `*(u64 *)addr & mask` is nonzero.
    pub fn jump_if_u64_at_masked(&mut self, addr: usize, mask: i32, label: Label) {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD addr as i64 ; test QWORD [r11], mask ; jnz =>label);
    }

    /// `*(u64 *)addr += 1`, then jump if the new value has any of the bits of `mask`.
    pub fn increment_u64_at_and_jump_if_masked(&mut self, addr: usize, mask: i32, label: Label) {
        dynasm!(self.ops ; .arch x64
            ; mov r11, QWORD addr as i64
            ; add QWORD [r11], 1
            ; test QWORD [r11], mask
            ; jnz =>label
        );
    }

    /// `*(u64 *)addr += 1`.
    pub fn increment_u64_at(&mut self, addr: usize) {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD addr as i64 ; add QWORD [r11], 1);
    }

    // --- Tier-2 operations: a spill area on the machine stack, doubles and integers. ---

    /// Grow the machine stack by `bytes` (a multiple of 16) for spill slots.
    pub fn reserve_spill(&mut self, bytes: i32) {
        dynasm!(self.ops ; .arch x64 ; sub rsp, bytes);
    }

    pub fn release_spill(&mut self, bytes: i32) {
        dynasm!(self.ops ; .arch x64 ; add rsp, bytes);
    }

    pub fn load_spill(&mut self, dst: Reg, slot: u32) {
        let disp = 8 * slot as i32;
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD [rsp + disp]);
    }

    pub fn store_spill(&mut self, slot: u32, src: Reg) {
        let disp = 8 * slot as i32;
        dynasm!(self.ops ; .arch x64 ; mov QWORD [rsp + disp], Rq(num(src)));
    }

    pub fn load_spill_f(&mut self, dst: FReg, slot: u32) {
        let disp = 8 * slot as i32;
        dynasm!(self.ops ; .arch x64 ; movsd Rx(fnum(dst)), QWORD [rsp + disp]);
    }

    pub fn store_spill_f(&mut self, slot: u32, src: FReg) {
        let disp = 8 * slot as i32;
        dynasm!(self.ops ; .arch x64 ; movsd QWORD [rsp + disp], Rx(fnum(src)));
    }

    /// Address of spill slot `slot` into `dst`.
    pub fn spill_addr(&mut self, dst: Reg, slot: u32) {
        let disp = 8 * slot as i32;
        dynasm!(self.ops ; .arch x64 ; lea Rq(num(dst)), [rsp + disp]);
    }

    pub fn f_arith(&mut self, op: FOp, dst: FReg, src: FReg) {
        let (d, s) = (fnum(dst), fnum(src));
        match op {
            FOp::Add => dynasm!(self.ops ; .arch x64 ; addsd Rx(d), Rx(s)),
            FOp::Sub => dynasm!(self.ops ; .arch x64 ; subsd Rx(d), Rx(s)),
            FOp::Mul => dynasm!(self.ops ; .arch x64 ; mulsd Rx(d), Rx(s)),
            FOp::Div => dynasm!(self.ops ; .arch x64 ; divsd Rx(d), Rx(s)),
        }
    }

    pub fn f_mov(&mut self, dst: FReg, src: FReg) {
        if dst != src {
            dynasm!(self.ops ; .arch x64 ; movapd Rx(fnum(dst)), Rx(fnum(src)));
        }
    }

    /// `dst = (double) src`, correctly rounded (as CPython's int-to-float conversion).
    pub fn f_from_i64(&mut self, dst: FReg, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(fnum(dst)), Rq(num(src)));
    }

    /// `dst` = the double with these bits: +0.0 by xorpd, anything else from the constant
    /// pool (one load, rather than an immediate moved through an integer register).
    pub fn f_load_bits(&mut self, dst: FReg, bits: u64) {
        let d = fnum(dst);
        if bits == 0 {
            dynasm!(self.ops ; .arch x64 ; xorpd Rx(d), Rx(d));
        } else {
            let c = self.constant(f64::from_bits(bits));
            dynasm!(self.ops ; .arch x64 ; movsd Rx(d), QWORD [=>c]);
        }
    }

    /// `dst = *(double *)(base + disp)`.
    pub fn f_load_mem(&mut self, dst: FReg, base: Reg, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movsd Rx(fnum(dst)), QWORD [Rq(num(base)) + disp]);
    }

    /// `*(double *)(base + disp) = src`.
    pub fn f_store_mem(&mut self, base: Reg, disp: i32, src: FReg) {
        dynasm!(self.ops ; .arch x64 ; movsd QWORD [Rq(num(base)) + disp], Rx(fnum(src)));
    }

    // --- Narrow numpy element types: int32 and float32 in memory, int64 and double in registers.

    /// `dst = *(i32 *)(base + disp)`, sign-extended.
    pub fn load_field_i32(&mut self, dst: Reg, base: Reg, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movsxd Rq(num(dst)), DWORD [Rq(num(base)) + disp]);
    }

    /// `*(i32 *)(base + disp) = src` (the low 32 bits).
    pub fn store_field_i32(&mut self, base: Reg, disp: i32, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(num(base)) + disp], Rd(num(src)));
    }

    /// Jump if `reg`'s signed value lies outside the int32 range.
    pub fn jump_if_not_i32(&mut self, reg: Reg, label: Label) {
        let r = num(reg);
        dynasm!(self.ops ; .arch x64 ; movsxd r11, Rd(r) ; cmp r11, Rq(r) ; jne =>label);
    }

    /// `dst = (double) *(float *)(base + disp)` (exact).
    pub fn f_load_f32(&mut self, dst: FReg, base: Reg, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; cvtss2sd Rx(fnum(dst)), DWORD [Rq(num(base)) + disp]);
    }

    /// `*(float *)(base + disp) = (float) src`, rounded to nearest as a C cast; `src` is
    /// clobbered (it holds the float's bits afterwards).
    pub fn f_store_f32(&mut self, base: Reg, disp: i32, src: FReg) {
        let s = fnum(src);
        dynasm!(self.ops ; .arch x64 ; cvtsd2ss Rx(s), Rx(s) ; movss DWORD [Rq(num(base)) + disp], Rx(s));
    }

    /// `reg = (double)(float) reg`: rounded to float32 precision and range (an infinity when
    /// it overflows), as a C cast to float rounds.
    pub fn f_round_f32(&mut self, reg: FReg) {
        let r = fnum(reg);
        dynasm!(self.ops ; .arch x64 ; cvtsd2ss Rx(r), Rx(r) ; cvtss2sd Rx(r), Rx(r));
    }

    /// C's signed division: `a = a / b` (truncated), `b = a % b` (the remainder, with the
    /// dividend's sign). The caller excludes `b == 0` and `i64::MIN / -1`. Clobbers R0 and R2,
    /// which must not be `a` or `b`.
    pub fn i_div_rem(&mut self, a: Reg, b: Reg) {
        assert!(![Reg::R0, Reg::R2].contains(&a) && ![Reg::R0, Reg::R2].contains(&b), "i_div_rem operands");
        let (ra, rb) = (num(a), num(b));
        dynasm!(self.ops ; .arch x64
            ; mov rax, Rq(ra)
            ; cqo
            ; idiv Rq(rb)
            ; mov Rq(ra), rax
            ; mov Rq(rb), rdx
        );
    }

    /// `dst = (int64_t) src`, truncated toward zero; `src` must lie in [-2^63, 2^63).
    pub fn f_to_i64_trunc(&mut self, dst: Reg, src: FReg) {
        dynasm!(self.ops ; .arch x64 ; cvttsd2si Rq(num(dst)), Rx(fnum(src)));
    }

    /// Jump if `reg` holds an infinity or a NaN (all exponent bits set). Clobbers F5.
    pub fn jump_if_f_nonfinite(&mut self, reg: FReg, label: Label) {
        debug_assert!(reg != FReg::F5);
        // x - x is 0 for a finite x and NaN for NaN and the infinities (F5 is scratch).
        let r = fnum(reg);
        dynasm!(self.ops ; .arch x64
            ; movapd xmm5, Rx(r)
            ; subsd xmm5, Rx(r)
            ; ucomisd xmm5, xmm5
            ; jp =>label
        );
    }

    /// Jump if `reg` is +0.0 or -0.0.
    pub fn jump_if_f_zero(&mut self, reg: FReg, label: Label) {
        dynasm!(self.ops ; .arch x64
            ; movq r11, Rx(fnum(reg))
            ; shl r11, 1
            ; jz =>label
        );
    }

    /// Compare doubles (never NaN here: tier 2 only holds finite values) and jump if `cond`.
    pub fn f_jump_if(&mut self, cond: Cond, a: FReg, b: FReg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; ucomisd Rx(fnum(a)), Rx(fnum(b)));
        match cond {
            Cond::Lt => dynasm!(self.ops ; .arch x64 ; jb =>label),
            Cond::Le => dynasm!(self.ops ; .arch x64 ; jbe =>label),
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; je =>label),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; jne =>label),
            Cond::Gt => dynasm!(self.ops ; .arch x64 ; ja =>label),
            Cond::Ge => dynasm!(self.ops ; .arch x64 ; jae =>label),
        }
    }

    /// `dst op= src`, jumping to `overflow` if the signed 64-bit result overflows.
    pub fn i_arith(&mut self, op: IOp, dst: Reg, src: Reg, overflow: Label) {
        let (d, s) = (num(dst), num(src));
        match op {
            IOp::Add => dynasm!(self.ops ; .arch x64 ; add Rq(d), Rq(s) ; jo =>overflow),
            IOp::Sub => dynasm!(self.ops ; .arch x64 ; sub Rq(d), Rq(s) ; jo =>overflow),
            IOp::Mul => dynasm!(self.ops ; .arch x64 ; imul Rq(d), Rq(s) ; jo =>overflow),
            IOp::And => dynasm!(self.ops ; .arch x64 ; and Rq(d), Rq(s)),
            IOp::Or => dynasm!(self.ops ; .arch x64 ; or Rq(d), Rq(s)),
            IOp::Xor => dynasm!(self.ops ; .arch x64 ; xor Rq(d), Rq(s)),
        }
    }

    /// Signed integer compare and jump.
    pub fn i_jump_if(&mut self, cond: Cond, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)));
        match cond {
            Cond::Lt => dynasm!(self.ops ; .arch x64 ; jl =>label),
            Cond::Le => dynasm!(self.ops ; .arch x64 ; jle =>label),
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; je =>label),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; jne =>label),
            Cond::Gt => dynasm!(self.ops ; .arch x64 ; jg =>label),
            Cond::Ge => dynasm!(self.ops ; .arch x64 ; jge =>label),
        }
    }

    /// Unsigned compare and jump if `a < b` (a negative `a` counts as huge): one test for
    /// `0 <= a < b` when `b` is a length.
    pub fn u_jump_if_below(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)) ; jb =>label);
    }

    /// Unsigned compare and jump if `a >= b`.
    pub fn u_jump_if_not_below(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)) ; jae =>label);
    }

    /// Signed compare with a 32-bit immediate and jump.
    pub fn i_jump_if_imm(&mut self, cond: Cond, a: Reg, imm: i32, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), imm);
        self.jcc(cond, label);
    }

    fn jcc(&mut self, cond: Cond, label: Label) {
        match cond {
            Cond::Lt => dynasm!(self.ops ; .arch x64 ; jl =>label),
            Cond::Le => dynasm!(self.ops ; .arch x64 ; jle =>label),
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; je =>label),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; jne =>label),
            Cond::Gt => dynasm!(self.ops ; .arch x64 ; jg =>label),
            Cond::Ge => dynasm!(self.ops ; .arch x64 ; jge =>label),
        }
    }

    /// `dst = (a cond b) ? 1 : 0` for signed integers.
    pub fn i_set_if(&mut self, cond: Cond, dst: Reg, a: Reg, b: Reg) {
        let d = num(dst);
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)));
        match cond {
            Cond::Lt => dynasm!(self.ops ; .arch x64 ; setl Rb(d)),
            Cond::Le => dynasm!(self.ops ; .arch x64 ; setle Rb(d)),
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; sete Rb(d)),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; setne Rb(d)),
            Cond::Gt => dynasm!(self.ops ; .arch x64 ; setg Rb(d)),
            Cond::Ge => dynasm!(self.ops ; .arch x64 ; setge Rb(d)),
        }
        dynasm!(self.ops ; .arch x64 ; movzx Rq(d), Rb(d));
    }

    /// `dst = (a cond b) ? 1 : 0` for doubles (never NaN here).
    pub fn f_set_if(&mut self, cond: Cond, dst: Reg, a: FReg, b: FReg) {
        let d = num(dst);
        dynasm!(self.ops ; .arch x64 ; ucomisd Rx(fnum(a)), Rx(fnum(b)));
        match cond {
            Cond::Lt => dynasm!(self.ops ; .arch x64 ; setb Rb(d)),
            Cond::Le => dynasm!(self.ops ; .arch x64 ; setbe Rb(d)),
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; sete Rb(d)),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; setne Rb(d)),
            Cond::Gt => dynasm!(self.ops ; .arch x64 ; seta Rb(d)),
            Cond::Ge => dynasm!(self.ops ; .arch x64 ; setae Rb(d)),
        }
        dynasm!(self.ops ; .arch x64 ; movzx Rq(d), Rb(d));
    }

    /// Jump if `|reg| > limit` (signed value, unsigned limit below 2^62).
    pub fn jump_if_abs_above(&mut self, reg: Reg, limit: u64, label: Label) {
        dynasm!(self.ops ; .arch x64
            ; mov r11, Rq(num(reg))
            ; mov r10, QWORD limit as i64
            ; add r11, r10
            ; add r10, r10
            ; cmp r11, r10
            ; ja =>label
        );
    }

    /// Whether the CPU has fused multiply-add (FMA3); decided once per process.
    /// `AUTOJIT_NO_FMA=1` makes code as for a CPU without it (to test that code).
    pub fn has_fma() -> bool {
        static FMA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *FMA.get_or_init(|| {
            std::env::var_os("AUTOJIT_NO_FMA").is_none_or(|v| v.is_empty() || v == "0")
                && std::arch::is_x86_feature_detected!("fma")
        })
    }

    /// `dst = a * b - dst`, computed exactly then rounded once (FMA3; check `has_fma`).
    pub fn f_fused_mul_sub(&mut self, dst: FReg, a: FReg, b: FReg) {
        dynasm!(self.ops ; .arch x64 ; vfmsub231sd Rx(fnum(dst)), Rx(fnum(a)), Rx(fnum(b)));
    }

    /// `dst = |dst|`.
    pub fn f_abs(&mut self, dst: FReg) {
        dynasm!(self.ops ; .arch x64
            ; movq r11, Rx(fnum(dst))
            ; btr r11, 63
            ; movq Rx(fnum(dst)), r11
        );
    }

    /// `dst` = the correctly rounded square root of `dst`.
    pub fn f_sqrt(&mut self, dst: FReg) {
        dynasm!(self.ops ; .arch x64 ; sqrtsd Rx(fnum(dst)), Rx(fnum(dst)));
    }

    /// `dst op= k` for a double constant `k` (from the constant pool).
    pub fn f_arith_const(&mut self, op: FOp, dst: FReg, k: f64) {
        let (d, c) = (fnum(dst), self.constant(k));
        match op {
            FOp::Add => dynasm!(self.ops ; .arch x64 ; addsd Rx(d), QWORD [=>c]),
            FOp::Sub => dynasm!(self.ops ; .arch x64 ; subsd Rx(d), QWORD [=>c]),
            FOp::Mul => dynasm!(self.ops ; .arch x64 ; mulsd Rx(d), QWORD [=>c]),
            FOp::Div => dynasm!(self.ops ; .arch x64 ; divsd Rx(d), QWORD [=>c]),
        }
    }

    /// `dst = dst * k + addend` for a double constant `k`, computed exactly then rounded once
    /// (FMA3; check `has_fma`).
    pub fn f_fused_mul_add_const(&mut self, dst: FReg, k: f64, addend: FReg) {
        let c = self.constant(k);
        dynasm!(self.ops ; .arch x64 ; vfmadd132sd Rx(fnum(dst)), Rx(fnum(addend)), QWORD [=>c]);
    }

    /// Jump unless `2^lo <= reg < 2^hi` (-1022 < lo < hi <= 1023): zero, negative values,
    /// infinities and NaN jump.
    pub fn jump_unless_binades(&mut self, reg: FReg, lo: i32, hi: i32, label: Label) {
        assert!(-1022 < lo && lo < hi && hi <= 1023, "binade range");
        let r = fnum(reg);
        let top = self.constant(f64::from_bits(((1023 + hi) as u64) << 52));
        let bottom = self.constant(f64::from_bits(((1023 + lo) as u64) << 52));
        // An unordered compare (NaN) sets CF: `jae` falls through, `jb` jumps.
        dynasm!(self.ops ; .arch x64
            ; ucomisd Rx(r), QWORD [=>top]
            ; jae =>label
            ; ucomisd Rx(r), QWORD [=>bottom]
            ; jb =>label
        );
    }

    /// Jump if `|reg|` is below the smallest normal double (zero or subnormal).
    pub fn jump_if_f_tiny(&mut self, reg: FReg, label: Label) {
        dynasm!(self.ops ; .arch x64
            ; movq r11, Rx(fnum(reg))
            ; shl r11, 1
            ; mov r10, QWORD (f64::MIN_POSITIVE.to_bits() << 1) as i64
            ; cmp r11, r10
            ; jb =>label
        );
    }

    /// `dst += imm`.
    pub fn i_add_imm(&mut self, dst: Reg, imm: i32) {
        dynasm!(self.ops ; .arch x64 ; add Rq(num(dst)), imm);
    }

    /// Move an integer register's bits into a double register.
    pub fn f_from_bits(&mut self, dst: FReg, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; movq Rx(fnum(dst)), Rq(num(src)));
    }

    /// `dst += src` without an overflow check (address arithmetic).
    pub fn i_add(&mut self, dst: Reg, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; add Rq(num(dst)), Rq(num(src)));
    }

    /// `dst *= src` without an overflow check (address arithmetic on checked indices).
    pub fn i_mul(&mut self, dst: Reg, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; imul Rq(num(dst)), Rq(num(src)));
    }

    /// `*(i64 *)(base + disp) += imm`.
    pub fn i_add_field_imm(&mut self, base: Reg, disp: i32, imm: i32) {
        dynasm!(self.ops ; .arch x64 ; add QWORD [Rq(num(base)) + disp], imm);
    }

    /// `*(i64 *)(base + disp) = src`.
    pub fn i_store_field(&mut self, base: Reg, disp: i32, src: Reg) {
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(num(base)) + disp], Rq(num(src)));
    }

    /// Jump to an absolute address (another compiled unit's instruction).
    pub fn jump_absolute(&mut self, addr: usize) {
        dynasm!(self.ops ; .arch x64 ; mov rax, QWORD addr as i64 ; jmp rax);
    }

    /// Jump to the address held in `reg`.
    pub fn jump_reg(&mut self, reg: Reg) {
        dynasm!(self.ops ; .arch x64 ; jmp Rq(num(reg)));
    }

    /// Call a C function taking doubles (already in F0, F1); the result is in F0.
    pub fn call_f(&mut self, addr: usize) {
        dynasm!(self.ops ; .arch x64 ; mov rax, QWORD addr as i64 ; call rax);
    }

    /// Jump if `*(u64 *)(base + disp)` has any of the bits of `mask` (a 32-bit mask).
    pub fn jump_if_field_bits(&mut self, base: Reg, disp: i32, mask: i32, label: Label) {
        dynasm!(self.ops ; .arch x64 ; test QWORD [Rq(num(base)) + disp], mask ; jnz =>label);
    }

    // --- Tier-1 inline fast paths: cache checks and one-digit ints. ---

    /// `dst = *(u64 *)(frame + disp)` for a frame header field.
    pub fn load_frame_field(&mut self, dst: Reg, disp: usize) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD [Rq(FRAME) + disp]);
    }

    /// `dst = *(u32 *)(base + disp)`, zero-extended.
    pub fn load_field_u32(&mut self, dst: Reg, base: Reg, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; mov Rd(num(dst)), DWORD [Rq(num(base)) + disp]);
    }

    /// `dst = *(u64 *)(base + 8 * index)`.
    pub fn load_field_indexed(&mut self, dst: Reg, base: Reg, index: Reg) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), QWORD [Rq(num(base)) + Rq(num(index)) * 8]);
    }

    /// Jump if `a != *(u64 *)(base + disp)`.
    pub fn jump_if_field_not_equal(&mut self, a: Reg, base: Reg, disp: i32, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), QWORD [Rq(num(base)) + disp] ; jne =>label);
    }

    /// Jump if the low 32 bits of `a` differ from `*(u32 *)(base + disp)`.
    pub fn jump_if_field_u32_not_equal(&mut self, a: Reg, base: Reg, disp: i32, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rd(num(a)), DWORD [Rq(num(base)) + disp] ; jne =>label);
    }

    pub fn jump_if_not_equal_reg(&mut self, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)) ; jne =>label);
    }

    /// Jump if `reg & mask == 0` (`mask` a positive 31-bit value).
    pub fn jump_if_bits_clear(&mut self, reg: Reg, mask: u32, label: Label) {
        assert!(mask <= i32::MAX as u32);
        let m = mask as i32;
        dynasm!(self.ops ; .arch x64 ; test Rq(num(reg)), m ; jz =>label);
    }

    /// Jump if `reg > imm` as unsigned 64-bit values (`imm` a positive 31-bit value).
    pub fn jump_if_above_imm(&mut self, reg: Reg, imm: u32, label: Label) {
        assert!(imm <= i32::MAX as u32);
        let i = imm as i32;
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(reg)), i ; ja =>label);
    }

    /// `dst &= imm` (`imm` a positive 31-bit value).
    pub fn i_and_imm(&mut self, dst: Reg, imm: u32) {
        assert!(imm <= i32::MAX as u32);
        let i = imm as i32;
        dynasm!(self.ops ; .arch x64 ; and Rq(num(dst)), i);
    }

    /// `dst = -dst` (two's complement).
    pub fn i_neg(&mut self, dst: Reg) {
        dynasm!(self.ops ; .arch x64 ; neg Rq(num(dst)));
    }

    /// `dst <<= n` (`n` < 64).
    pub fn i_shl_imm(&mut self, dst: Reg, n: u8) {
        assert!(n < 64);
        dynasm!(self.ops ; .arch x64 ; shl Rq(num(dst)), n as i8);
    }

    /// Py_DECREF(reg) without the deallocation: when the count drops to zero, jump to
    /// `dealloc` (with `reg` intact), which must deallocate the object and come back.
    pub fn decref_or_jump(&mut self, reg: Reg, dealloc: Label) {
        let r = num(reg);
        if self.refcounts == RefcountModel::Immortal {
            dynasm!(self.ops ; .arch x64 ; cmp DWORD [Rq(r)], 0 ; jl >done);
        }
        dynasm!(self.ops ; .arch x64
            ; sub QWORD [Rq(r)], 1
            ; jz =>dealloc
            ; done:
        );
    }

    // --- Subroutines called from compiled code (the direct-call routine). ---

    /// Start of a subroutine entered by a call from compiled code (`call` with no
    /// arguments): keeps the machine stack aligned for the calls it makes. It may use every
    /// register but the pinned frame and thread state, and must end with `subroutine_return`.
    pub fn subroutine_enter(&mut self) {
        dynasm!(self.ops ; .arch x64 ; sub rsp, 8);
    }

    /// Return from a subroutine (the result, if any, in R0).
    pub fn subroutine_return(&mut self) {
        dynasm!(self.ops ; .arch x64 ; add rsp, 8 ; ret);
    }

    /// `dst` = the machine stack pointer.
    pub fn load_stack_pointer(&mut self, dst: Reg) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(num(dst)), rsp);
    }

    /// `dst = *(u64 *)addr`.
    pub fn load_absolute(&mut self, dst: Reg, addr: usize) {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD addr as i64 ; mov Rq(num(dst)), QWORD [r11]);
    }

    /// Unsigned compare and jump.
    pub fn u_jump_if(&mut self, cond: Cond, a: Reg, b: Reg, label: Label) {
        dynasm!(self.ops ; .arch x64 ; cmp Rq(num(a)), Rq(num(b)));
        match cond {
            Cond::Lt => dynasm!(self.ops ; .arch x64 ; jb =>label),
            Cond::Le => dynasm!(self.ops ; .arch x64 ; jbe =>label),
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; je =>label),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; jne =>label),
            Cond::Gt => dynasm!(self.ops ; .arch x64 ; ja =>label),
            Cond::Ge => dynasm!(self.ops ; .arch x64 ; jae =>label),
        }
    }

    /// `dst = *(i32 *)(tstate + disp)`, sign-extended.
    pub fn load_tstate_field_i32(&mut self, dst: Reg, disp: usize) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; movsxd Rq(num(dst)), DWORD [Rq(TSTATE) + disp]);
    }

    /// `*(i32 *)(tstate + disp) += imm`.
    pub fn add_tstate_field_i32(&mut self, disp: usize, imm: i32) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; add DWORD [Rq(TSTATE) + disp], imm);
    }

    /// `*(u64 *)(tstate + disp) = src`.
    pub fn store_tstate_field(&mut self, disp: usize, src: Reg) {
        let disp = disp as i32;
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(TSTATE) + disp], Rq(num(src)));
    }

    /// `dst` = the address of frame slot `slot` (`&localsplus[slot]`).
    pub fn slot_address(&mut self, dst: Reg, slot: u32) {
        let disp = self.slot_disp(slot);
        dynasm!(self.ops ; .arch x64 ; lea Rq(num(dst)), [Rq(FRAME) + disp]);
    }

    /// Call the C function whose address is in `target` (S0 or S1, never an argument
    /// register) with `args`; the result is in R0.
    pub fn call_indirect(&mut self, target: Reg, args: &[Arg]) {
        assert!(matches!(target, Reg::S0 | Reg::S1), "call_indirect target {target:?}");
        assert!(args.iter().all(|a| !matches!(a, Arg::Reg(r) if *r == target)));
        self.set_arguments(args);
        dynasm!(self.ops ; .arch x64 ; call Rq(num(target)));
    }

    /// The assembled bytes, with every label resolved.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        if !self.consts.is_empty() {
            dynasm!(self.ops ; .arch x64 ; .align 8);
            for (label, bits) in std::mem::take(&mut self.consts) {
                dynasm!(self.ops ; .arch x64 ; =>label ; .u64 bits);
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

    #[test]
    fn slot_loads_and_stores_address_localsplus() {
        // dynasm encodes dynamic-register memory operands with a SIB byte and a 32-bit
        // displacement. mov rax, [rbx + 72 + 8*2]:
        assert_eq!(bytes(|a| a.load_slot(Reg::R0, 2)), [0x48, 0x8b, 0x84, 0x23, 0x58, 0, 0, 0]);
        // mov [rbx + 72 + 8*1], r13
        assert_eq!(bytes(|a| a.store_slot(1, Reg::S0)), [0x4c, 0x89, 0xac, 0x23, 0x50, 0, 0, 0]);
    }

    #[test]
    fn plain_incref_is_one_add() {
        // add qword [rax + 0], 1
        assert_eq!(bytes(|a| a.incref(Reg::R0)), [0x48, 0x81, 0x44, 0x20, 0x00, 1, 0, 0, 0]);
    }

    #[test]
    fn binade_range_and_constant_pool() {
        let k = f64::from_bits(0x3ff0_b0b0_b0b0_b0b1);
        let code = bytes(|a| {
            let end = a.new_label();
            a.jump_unless_binades(FReg::F1, -128, 128, end);
            a.f_fused_mul_add_const(FReg::F4, k, FReg::F1);
            a.f_arith_const(FOp::Mul, FReg::F2, 2.0);
            a.f_arith_const(FOp::Add, FReg::F5, k);
            a.bind(end);
        });
        // ucomisd xmm1, [rip+top] ; jae end ; ucomisd xmm1, [rip+bottom] ; jb end ;
        // vfmadd132sd xmm4, xmm1, [rip+k] ; mulsd xmm2, [rip+two] ; addsd xmm5, [rip+k] ; end:
        // nop padding to 8 ; top: 2^128 ; bottom: 2^-128 ; k ; two: 2.0 (objdump)
        let mut expected = vec![
            0x66, 0x40, 0x0f, 0x2e, 0x0d, 0x37, 0, 0, 0, 0x0f, 0x83, 0x2a, 0, 0, 0, 0x66, 0x40, 0x0f, 0x2e, 0x0d, 0x30, 0, 0,
            0, 0x0f, 0x82, 0x1b, 0, 0, 0, 0xc4, 0xe2, 0xf1, 0x99, 0x25, 0x29, 0, 0, 0, 0xf2, 0x40, 0x0f, 0x59, 0x15, 0x28,
            0, 0, 0, 0xf2, 0x40, 0x0f, 0x58, 0x2d, 0x17, 0, 0, 0, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
        ];
        for value in [2f64.powi(128), 2f64.powi(-128), k, 2.0] {
            expected.extend_from_slice(&value.to_bits().to_le_bytes());
        }
        assert_eq!(code, expected);
    }

    #[test]
    fn call_arguments_move_without_clobbering() {
        // R3 (rsi) -> arg0 (rdi) and R0 (rax) -> arg1 (rsi): rdi must be written first.
        let code = bytes(|a| a.call(0, &[Arg::Reg(Reg::R3), Arg::Reg(Reg::R0)]));
        // mov rdi, rsi ; mov rsi, rax
        assert_eq!(&code[..6], &[0x48, 0x89, 0xf7, 0x48, 0x89, 0xc6]);
        // A cycle needs the temporary: arg0 (rdi) <- R3 (rsi) and arg1 (rsi) <- ... rdi is no
        // source here, so check a real swap: arg1 (rsi) <- R3 (rsi) is a no-op and
        // arg0 (rdi) <- R3 must come first.
        let code = bytes(|a| a.call(0, &[Arg::Reg(Reg::R3), Arg::Reg(Reg::R3)]));
        assert_eq!(&code[..3], &[0x48, 0x89, 0xf7]);
    }

    #[test]
    fn unsigned_bounds_checks() {
        // cmp rcx, rdx ; jb rel32 0 / cmp rcx, rdx ; jae rel32 0 (labels bound right after)
        let code = bytes(|a| {
            let l = a.new_label();
            a.u_jump_if_below(Reg::R1, Reg::R2, l);
            a.bind(l);
            let m = a.new_label();
            a.u_jump_if_not_below(Reg::R1, Reg::R2, m);
            a.bind(m);
        });
        assert_eq!(code, [0x48, 0x3b, 0xca, 0x0f, 0x82, 0, 0, 0, 0, 0x48, 0x3b, 0xca, 0x0f, 0x83, 0, 0, 0, 0]);
    }

    /// Runs the tier-1 inline operations on fake objects and checks every branch both ways.
    /// `run(body)` assembles `prologue; body` and calls it with a frame whose localsplus
    /// (at offset 0) is `frame`.
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

    #[test]
    fn subroutine_operations_execute() {
        use crate::codemem::CodeBlock;
        type Entry = unsafe extern "C" fn(*mut u8, *mut u64) -> u64;
        check_subroutine_operations(
            &|tstate, frame, body| {
                let mut a = Assembler::new(0, RefcountModel::Plain, 0);
                a.prologue();
                body(&mut a);
                let block = CodeBlock::new(&a.finish().unwrap()).unwrap();
                let f: Entry = unsafe { std::mem::transmute(block.start()) };
                unsafe { f(tstate, frame.as_mut_ptr()) }
            },
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
        use crate::codemem::CodeBlock;
        type Entry = unsafe extern "C" fn(*mut u8, *mut u64) -> u64;
        check_tier1_inline_operations(&|model, frame, body| {
            let mut a = Assembler::new(0, model, 0);
            a.prologue();
            body(&mut a);
            let block = CodeBlock::new(&a.finish().unwrap()).unwrap();
            let f: Entry = unsafe { std::mem::transmute(block.start()) };
            unsafe { f(std::ptr::null_mut(), frame.as_mut_ptr()) }
        });
    }
}
