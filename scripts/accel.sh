#!/usr/bin/env bash
# accel.sh: print the QEMU accelerator arguments for ACCEL (auto|kvm|tcg|tcg-icount),
# or with --kind the KVM kind (hardware, pvm or none), for the Makefile and
# the tests.  The rules are the harness's own (ferryhost/env.py): auto takes
# hardware KVM (VT-x/AMD-V) when /dev/kvm is usable, else TCG; a software KVM
# such as PVM (module kvm_pvm) is used only when asked for with kvm: there
# Ferry's ring-0 code is emulated and SYSCALL from ring 3 does not reach it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --kind ]; then
    exec /usr/bin/python3 -m ferryhost.env --kind
fi
exec /usr/bin/python3 -m ferryhost.env --accel-args "${1:-auto}"
