//! x86_64 implementation of the macro-assembler, with dynasm.
//!
//! System V ABI. Pinned: rbx = frame, r12 = thread state. Scratch: rax (R0), rcx (R1),
//! rdx (R2), rsi (R3). Callee-saved scratch: r13 (S0), r14 (S1). The prologue saves rbx,
//! r12-r15 (five pushes keep the stack 16-byte aligned at calls).

use super::{Arg, Label, RefcountModel, Reg};
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
    }
}

pub struct Assembler {
    ops: VecAssembler<X64Relocation>,
    /// Byte offset of `localsplus[0]` in the frame.
    localsplus: i32,
    refcounts: RefcountModel,
    dealloc: u64,
}

impl Assembler {
    /// `localsplus`: the frame's localsplus offset; `dealloc`: address of `_Py_Dealloc`.
    pub fn new(localsplus: usize, refcounts: RefcountModel, dealloc: usize) -> Self {
        Assembler {
            ops: VecAssembler::new(0),
            localsplus: localsplus as i32,
            refcounts,
            dealloc: dealloc as u64,
        }
    }

    pub fn new_label(&mut self) -> Label {
        self.ops.new_dynamic_label()
    }

    pub fn bind(&mut self, label: Label) {
        dynasm!(self.ops ; .arch x64 ; =>label);
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
            }
        }
        dynasm!(self.ops ; .arch x64 ; mov rax, QWORD addr as i64 ; call rax);
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

    /// `*(u64 *)addr += 1`.
    pub fn increment_u64_at(&mut self, addr: usize) {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD addr as i64 ; add QWORD [r11], 1);
    }

    /// The assembled bytes, with every label resolved.
    pub fn finish(self) -> Result<Vec<u8>, String> {
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
}
