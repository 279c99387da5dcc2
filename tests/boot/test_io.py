"""test_io.py: files the guest writes through the file server and the ATA
driver reach the disk image, which the host's Debian tools then check:
fsck.fat -n finds nothing wrong and mtype prints the guest's bytes."""
import shutil
import subprocess
import sys

from conftest import BUILD, EXIT_SUCCESS, ROOT, boot

sys.path.insert(0, str(ROOT))
from ferryhost import disk  # noqa: E402

from test_boot import initrd_modules  # noqa: E402


def test_guest_written_files_checked_on_host(kernel_mb1, tmp_path):
    img = tmp_path / "disk.img"
    shutil.copyfile(BUILD / "disk.img", img)          # no snapshot: the writes stay
    b = boot(["-kernel", kernel_mb1, "-initrd", ",".join(initrd_modules()),
              "-drive", f"file={img},format=raw,if=ide,index=0",
              "-append", "test=io_write_file,io_libc_files"], timeout=300)
    assert b.status == EXIT_SUCCESS, b
    assert "2 passed, 0 failed" in b.output, b
    fsck = subprocess.run(["fsck.fat", "-n", str(img)], capture_output=True, text=True,
                          env={"PATH": "/usr/sbin:/sbin:/usr/bin:/bin"})
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    for name, seed, size in (("GUEST.BIN", 9, 100000), ("GUEST2.BIN", 8, 5)):
        got = subprocess.run(["mtype", "-i", str(img), f"::/{name}"], capture_output=True, check=True,
                             env={"PATH": "/usr/bin:/bin", "MTOOLS_SKIP_CHECK": "1"}).stdout
        assert got == disk.pattern(seed, size), name
    # filetest's directory stays (FAT's unlink of it is not asked for), empty
    listing = subprocess.run(["mdir", "-b", "-i", str(img), "::/FTDIR"], capture_output=True, text=True,
                             env={"PATH": "/usr/bin:/bin", "MTOOLS_SKIP_CHECK": "1"})
    assert listing.returncode == 0 and "FT2.TXT" not in listing.stdout, listing.stdout
