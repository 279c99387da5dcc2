"""disk.py: the FAT disk image the guest's block driver and file server read:
a deterministic file set made with Debian's mkfs.fat and mcopy.

The bulk files hold io_pattern(seed, i) (userspace/lib/include/ferry/io.h
computes the same bytes, so the guest checks what it reads):
byte i of file `seed` is BLOCK(seed)[i % 4093], a 4093-byte block (a prime
length, so no cluster or sector size lines up with it).

    python3 -m ferryhost.disk OUT.img
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# 97 cylinders of 16 heads and 63 sectors (Bochs takes the geometry of a
# flat image from its size): 48,888 KiB
IMAGE_KB = 97 * 16 * 63 // 2
PATTERN_PERIOD = 4093
HELLO = b"Hello from the Ferry file server: read through fatfs and the ATA driver.\n"
# name in the image -> (seed, size); the benchmarks' sizes (bench/ferry/io.c)
FILES = {
    "F4K.BIN": (1, 4096),
    "F64K.BIN": (2, 65536),
    "F1M.BIN": (3, 1 << 20),
    "F16M.BIN": (4, 16 << 20),
    "ODD.BIN": (5, 300007),
}


def pattern_block(seed):
    """The 4093 bytes that repeat through file `seed` (io_pattern in io.h)."""
    out = bytearray(PATTERN_PERIOD)
    for k in range(PATTERN_PERIOD):
        x = (((k + 1) * 2654435761) & 0xFFFFFFFF) ^ ((seed * 40503) & 0xFFFFFFFF)
        out[k] = ((x >> 13) ^ (x >> 24)) & 0xFF
    return bytes(out)


def pattern(seed, size):
    block = pattern_block(seed)
    return (block * (size // PATTERN_PERIOD + 1))[:size]


def tools():
    missing = [t for t in ("mkfs.fat", "mcopy", "mmd") if not shutil.which(t, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")]
    if missing:
        raise SystemExit(f"disk: missing {', '.join(missing)} (scripts/setup.sh build installs dosfstools, mtools)")


def make_disk(out):
    """Writes the image to out (replacing it); returns its path."""
    tools()
    out = Path(out)
    env = dict(os.environ, PATH=os.environ.get("PATH", "") + ":/usr/sbin:/sbin", MTOOLS_SKIP_CHECK="1")
    tmp_img = out.with_suffix(".tmp")
    if tmp_img.exists():
        tmp_img.unlink()
    # FAT16 with 2 KiB clusters; a fixed volume id so the image is the same every time
    subprocess.run(["mkfs.fat", "-C", "-F", "16", "-s", "4", "-i", "46455252", "-n", "FERRY",
                    str(tmp_img), str(IMAGE_KB)], check=True, env=env, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "HELLO.TXT").write_bytes(HELLO)
        for name, (seed, size) in FILES.items():
            (d / name).write_bytes(pattern(seed, size))
        (d / "README.TXT").write_bytes(b"Files F*.BIN and ODD.BIN: see ferryhost/disk.py.\n")
        for f in d.iterdir():
            os.utime(f, (1767225600, 1767225600))     # 2026-01-01: mcopy -m keeps it
        m = ["-i", str(tmp_img)]
        subprocess.run(["mmd"] + m + ["::/DOCS"], check=True, env=env)
        subprocess.run(["mcopy", "-m"] + m + [str(d / "HELLO.TXT"), str(d / "README.TXT")] +
                       [str(d / n) for n in FILES] + ["::/"], check=True, env=env)
        subprocess.run(["mcopy", "-m"] + m + [str(d / "README.TXT"), "::/DOCS/"], check=True, env=env)
    os.replace(tmp_img, out)
    return out


def main(argv):
    if len(argv) != 1:
        raise SystemExit("usage: python3 -m ferryhost.disk OUT.img")
    make_disk(argv[0])


if __name__ == "__main__":
    main(sys.argv[1:])
