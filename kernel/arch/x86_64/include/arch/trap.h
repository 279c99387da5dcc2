/* trap.h: the register frame the exception stubs build, and the IDT. */
#ifndef FERRY_ARCH_TRAP_H
#define FERRY_ARCH_TRAP_H

#include <types.h>

/* Layout fixed by vectors.S: general registers pushed by the common stub,
 * then vector and error code pushed by each vector's stub, then the
 * hardware frame. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

enum {
    VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
    VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
    VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19,
    VEC_VE = 20, VEC_CP = 21,
};

void idt_init(void);
/* Load the IDT built by idt_init on this CPU (the other CPUs at start-up). */
void idt_load(void);
void trap_handler(struct trap_frame *tf);
const char *trap_name(uint64_t vector);
void trap_dump(const struct trap_frame *tf, uint64_t cr2);

#endif
