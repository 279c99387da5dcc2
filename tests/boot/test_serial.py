"""test_serial.py: the user-space serial driver (serial:) on COM1: a
program's printf comes out whole through it, and a line typed into QEMU's
serial input (stdin, with -serial stdio) reaches the program that reads
serial:, through IRQ 4 and the driver's receive thread, read(0) sleeping in
the driver meanwhile (sertest read checks one request a read)."""
import re
import subprocess
import threading

from conftest import EXIT_SUCCESS, QEMU_COMMON, TCG

from test_boot import initrd_modules

TYPED = "typed-into-com1"


def test_serial_driver_output_and_input(kernel_mb1):
    cmd = QEMU_COMMON + TCG + ["-kernel", kernel_mb1, "-initrd", ",".join(initrd_modules()),
                               "-append", f"test=io_serial serial_input={TYPED}"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    timer = threading.Timer(180, p.kill)
    timer.start()
    lines, typed = [], False
    try:
        for raw in p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            lines.append(line)
            # Typed only once the reader waits: bytes sent earlier would
            # reach the UART before the driver has cleared its FIFO.
            if not typed and line == "sertest: waiting for input":
                p.stdin.write(f"{TYPED}\n".encode())
                p.stdin.flush()
                typed = True
        status = p.wait()
    finally:
        timer.cancel()
        p.kill()
    out = "\n".join(lines)
    assert status == EXIT_SUCCESS, out
    assert typed, out
    assert "1 passed, 0 failed" in out, out
    for expect in ("sertest: a line through the serial driver", "sertest: a line while a reader sleeps in the driver",
                   "sertest: a line while the driver crashes",
                   "sertest: a line through the restarted driver", f'sertest: read "{TYPED}"'):
        assert re.search(f"^{re.escape(expect)}$", out, re.M), expect
