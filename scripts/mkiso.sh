#!/usr/bin/env bash
# mkiso.sh: build a GRUB2 (Multiboot2) boot ISO with grub-mkrescue.
# Usage: mkiso.sh OUT.iso KERNEL.elf "CMDLINE" [MODULE...]
set -euo pipefail
out=$1 kernel=$2 cmdline=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$kernel" "$dir/boot/ferry.elf"
{
    echo 'set timeout=0'
    echo 'set default=0'
    echo 'serial --unit=0 --speed=115200'
    echo 'terminal_output serial'
    echo 'menuentry "Ferry" {'
    echo "    multiboot2 /boot/ferry.elf $cmdline"
    for m in "$@"; do
        cp "$m" "$dir/boot/$(basename "$m")"
        echo "    module2 /boot/$(basename "$m") $(basename "$m")"
    done
    echo '    boot'
    echo '}'
} > "$dir/boot/grub/grub.cfg"
grub-mkrescue -o "$out" "$dir" 2>"$dir.log" || { cat "$dir.log" >&2; rm -f "$dir.log"; exit 1; }
rm -f "$dir.log"
