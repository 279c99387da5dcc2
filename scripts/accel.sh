#!/usr/bin/env bash
# accel.sh: print the QEMU accelerator arguments for ACCEL (auto|kvm|tcg|tcg-icount).
#
# auto takes hardware KVM (VT-x/AMD-V) when /dev/kvm is usable, else TCG.  A
# software KVM such as PVM (module kvm_pvm) is used only when asked for with
# kvm: there Ferry's ring-0 code is emulated and SYSCALL from ring 3 does not
# reach it.  With --kind, print the KVM kind instead: hardware, pvm or none.
set -euo pipefail

kvm_kind() {
    if [ ! -c /dev/kvm ] || ! { : <>/dev/kvm; } 2>/dev/null; then
        echo none
    elif [ -d /sys/module/kvm_pvm ]; then
        echo pvm
    elif [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
        echo hardware
    else
        echo unknown
    fi
}

if [ "${1:-}" = --kind ]; then
    kvm_kind
    exit 0
fi

accel=${1:-auto}
kind=$(kvm_kind)
case "$accel" in
auto)
    if [ "$kind" = hardware ]; then accel=kvm; else accel=tcg; fi ;;
kvm|tcg|tcg-icount) ;;
*)
    echo "accel.sh: unknown accelerator '$accel' (auto, kvm, tcg, tcg-icount)" >&2
    exit 2 ;;
esac

case "$accel" in
kvm)
    case "$kind" in
    none) echo "accel.sh: ACCEL=kvm but /dev/kvm is absent or not usable" >&2; exit 1 ;;
    pvm) echo "-accel kvm -cpu host,-arch-capabilities" ;;
    *) echo "-accel kvm -cpu host" ;;
    esac ;;
tcg) echo "-accel tcg -cpu max" ;;
tcg-icount) echo "-accel tcg -icount shift=0,sleep=off -cpu max" ;;
esac
