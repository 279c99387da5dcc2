#!/usr/bin/env bash
# setup.sh: make sure the Debian packages a Ferry target needs are installed.
#
# Usage: scripts/setup.sh GROUP...   (groups: build test bench linux bochs cluster paper all)
# As root, missing packages are installed with apt-get (after one
# `apt-get update`); otherwise the exact apt-get line is printed and the
# script fails, so nothing half-works.
set -euo pipefail

declare -A GROUP
# dosfstools and mtools: the FAT disk images (mkfs.fat, mcopy, fsck.fat) the file
# server reads, made by the host unit tests and the harness.
GROUP[build]="gcc make binutils grub-pc-bin grub-common xorriso mtools dosfstools qemu-system-x86"
# Bochs: the second emulator, whose CPU models offer PCID, INVPCID, x2APIC,
# TSC-deadline and SMAP (QEMU's TCG here lacks some of them); make test runs
# the in-guest suite under it.
GROUP[bochs]="bochs bochs-term bochsbios vgabios"
GROUP[test]="${GROUP[build]} ${GROUP[bochs]} libcmocka-dev pkg-config python3 python3-pytest python3-matplotlib python3-numpy python3-scipy python3-pandas gnuplot-nox gdb cppcheck"
GROUP[bench]="${GROUP[test]} linux-perf"
GROUP[linux]="linux-image-amd64 busybox-static cpio"
# Slurm and its authentication: sweeps as job arrays (`sweep --slurm`); the
# harness tests start a one-node cluster with them.
GROUP[cluster]="slurm-wlm munge"
# The paper (make paper): LaTeX with booktabs, latexmk to build it, and
# poppler-utils (pdftotext, pdftoppm) for the test that reads a number back
# out of the PDF and for rendering pages to look at.
GROUP[paper]="texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk poppler-utils"

want=()
[ $# -gt 0 ] || set -- test
for g in "$@"; do
    if [ "$g" = all ]; then
        set -- build test bench linux bochs cluster paper
        break
    fi
done
for g in "$@"; do
    if [ -z "${GROUP[$g]+x}" ]; then
        echo "setup.sh: unknown group '$g' (groups: ${!GROUP[*]} all)" >&2
        exit 2
    fi
    for p in ${GROUP[$g]}; do want+=("$p"); done
done

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "setup.sh: run as root:  $line" >&2
    exit 1
fi
echo "setup.sh: installing missing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/ferry-update-stamp
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
    apt-get update -q >&2
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
