"""catalog.py: the benchmarks a build offers, read from the BENCH_CATALOG section of the built ELF (no boot, no copy)."""

import struct
from pathlib import Path

from .errors import HarnessError

SECTION = ".ferry_bench_catalog"
MAGIC = b"FERRYBC1"     # BENCH_CATALOG_MAGIC in bench/lib/bench_runner.h


class Elf:
    """Just enough of a little-endian ELF64 file to read a section and follow pointers."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.data = self.path.read_bytes()
        except OSError as e:
            raise HarnessError(f"cannot read {path}: {e.strerror}") from None
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise HarnessError(f"{path} is not a little-endian ELF64 file")
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        self.sections = []
        for i in range(shnum):
            name, typ, flags, addr, off, size = struct.unpack_from("<IIQQQQ", d, shoff + i * shentsize)
            self.sections.append([name, typ, addr, off, size])
        stroff = self.sections[shstrndx][3]
        for s in self.sections:
            end = d.index(b"\0", stroff + s[0])
            s[0] = d[stroff + s[0]:end].decode()

    def section(self, name):
        for n, typ, addr, off, size in self.sections:
            if n == name:
                return addr, self.data[off:off + size]
        return None, None

    def _at(self, vaddr, size):
        for n, typ, addr, off, ssize in self.sections:
            if addr and typ != 8 and addr <= vaddr and vaddr + size <= addr + ssize:   # 8: NOBITS
                return off + vaddr - addr
        raise HarnessError(f"{self.path}: address {vaddr:#x} is in no section with contents")

    def u(self, vaddr, fmt):
        return struct.unpack_from("<" + fmt, self.data, self._at(vaddr, struct.calcsize(fmt)))[0]

    def string(self, vaddr):
        if not vaddr:
            return ""
        o = self._at(vaddr, 1)
        return self.data[o:self.data.index(b"\0", o)].decode("utf-8", "replace")


def read(path):
    """[{name, variant, description, sizes (list or None), default_samples, max_samples}] of the program at path."""
    elf = Elf(path)
    base, sec = elf.section(SECTION)
    if sec is None:
        raise HarnessError(f"{path} has no {SECTION} section (built before the benchmark catalogue existed? "
                           f"rebuild it)")
    if sec[:8] != MAGIC:
        raise HarnessError(f"{path}: {SECTION} does not start with {MAGIC.decode()}")
    entry_size, nfam, o_name, o_var, o_desc, o_sizes, o_nsizes, o_defs, o_max = struct.unpack_from("<9I", sec, 8)
    fams, = struct.unpack_from("<Q", sec, 8 + 9 * 4 + 4)   # pointer after the 9 words, 8-aligned
    out = []
    for f in range(nfam):
        entries = elf.u(fams + 16 * f, "Q")
        n = elf.u(elf.u(fams + 16 * f + 8, "Q"), "Q")
        for i in range(n):
            e = entries + i * entry_size
            sp, ns = elf.u(e + o_sizes, "Q"), elf.u(e + o_nsizes, "Q")
            out.append({"name": elf.string(elf.u(e + o_name, "Q")),
                        "variant": elf.string(elf.u(e + o_var, "Q")),
                        "description": elf.string(elf.u(e + o_desc, "Q")),
                        "sizes": [elf.u(sp + 8 * k, "q") for k in range(ns)] if sp else None,
                        "default_samples": elf.u(e + o_defs, "I"),
                        "max_samples": elf.u(e + o_max, "I")})
    return out


def names(cat):
    """The words bench= accepts: every name and every name/variant."""
    return {e["name"] for e in cat} | {f"{e['name']}/{e['variant']}" for e in cat if e["variant"]}


def check(benches, sizes, cat, where):
    """Refuse unknown benchmark words, and sizes for a selection where no benchmark takes a size."""
    known = names(cat)
    for b in benches:
        if b != "all" and b not in known:
            close = sorted(k for k in known if "/" not in k and (k.startswith(b[:4]) or b.startswith(k[:4])))
            raise HarnessError(f"unknown benchmark '{b}' in {where}" +
                               (f" (did you mean {', '.join(close)}?)" if close else "") +
                               f"; `harness.py list` shows the {len({e['name'] for e in cat})} there are")
    if sizes:
        chosen = [e for e in cat if "all" in benches or e["name"] in benches
                  or f"{e['name']}/{e['variant']}" in benches]
        if chosen and not any(e["sizes"] is not None for e in chosen):
            raise HarnessError(f"--sizes given but none of {', '.join(benches)} takes a size ({where})")
