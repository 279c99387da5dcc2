"""records.py: read the record format from bench_format.h and parse serial console lines into records."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HarnessError

REPO = Path(__file__).resolve().parent.parent
HEADER = REPO / "kernel" / "include" / "uapi" / "ferry" / "bench_format.h"

_DEFINE = re.compile(r'^[ \t]*#[ \t]*define[ \t]+(FERRY_\w+)[ \t]+("(?:[^"\\]|\\.)*"|\S+)', re.M)

# Keys every @result must carry, and which of them must be integers.  The
# header's comment defines them; the C side has no machine-readable list.
RESULT_INT_KEYS = ("size", "samples", "min", "p50", "p90", "p99", "max", "mean", "stdev")
RESULT_STR_KEYS = ("bench", "variant")


@dataclass(frozen=True)
class Format:
    """The constants of bench_format.h that the host needs."""
    schema: int
    prefixes: dict          # record kind ("meta", "result", ...) -> prefix string
    exit_success: int
    exit_failure: int
    panic: str = "PANIC: "  # FERRY_CONSOLE_PANIC: the start of a kernel panic line


def load_format(header=None):
    """Parse the #defines of bench_format.h at run time, so the header stays the one definition."""
    header = Path(header or HEADER)
    try:
        text = header.read_text()
    except OSError as e:
        raise HarnessError(f"cannot read record format header {header}: {e.strerror}") from None
    defs = {}
    for name, value in _DEFINE.findall(text):
        defs[name] = json.loads(value) if value.startswith('"') else value
    prefixes = {n[len("FERRY_REC_"):].lower(): v for n, v in defs.items() if n.startswith("FERRY_REC_")}
    try:
        return Format(schema=int(defs["FERRY_BENCH_SCHEMA"], 0), prefixes=prefixes,
                      exit_success=int(defs["FERRY_QEMU_EXIT_SUCCESS"], 0),
                      exit_failure=int(defs["FERRY_QEMU_EXIT_FAILURE"], 0),
                      panic=defs["FERRY_CONSOLE_PANIC"])
    except (KeyError, ValueError) as e:
        raise HarnessError(f"{header}: missing or bad #define {e}") from None


class RecordError(HarnessError):
    """A line that claims to be a record but is not a valid one."""


@dataclass
class Parsed:
    """Everything one boot printed, sorted by kind."""
    meta: dict = None
    results: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    fastpath: list = field(default_factory=list)  # @fastpath: fast-path fall-backs per configuration
    done: dict = None
    panic: str = None
    log: list = field(default_factory=list)       # kernel log lines (not records)
    malformed: list = field(default_factory=list)  # RecordError messages


class Parser:
    """Incremental line parser: feed() each console line as it arrives."""

    def __init__(self, fmt):
        self.fmt = fmt
        self.out = Parsed()
        self.lineno = 0
        # Longest prefix first so that no prefix shadows a longer one.
        self._prefixes = sorted(fmt.prefixes.items(), key=lambda kv: -len(kv[1]))
        # "@result" with nothing after it (the prefix minus its space) is a
        # broken record, not kernel log; remember the bare words to tell.
        self._bare = {p.strip(): k for k, p in fmt.prefixes.items()}
        self._samples_checked = 0   # @samples records already held against a @result

    def feed(self, line):
        self.lineno += 1
        line = line.rstrip("\r\n")
        try:
            self._feed(line)
        except RecordError as e:
            self.out.malformed.append(str(e))

    def _feed(self, line):
        o = self.out
        panic = self.fmt.panic.rstrip()
        if line.startswith(panic):
            # Keep the first panic line; the register dump follows as log lines.
            if o.panic is None:
                o.panic = line[len(panic):].strip()
            o.log.append(line)
            return
        kind, body = self._split(line)
        if kind is None:
            o.log.append(line)
            return
        if kind == "done":
            o.done = self._json(body, kind) if body.strip() else {}
            return
        obj = self._json(body, kind)
        if kind == "meta":
            if obj.get("schema") != self.fmt.schema:
                raise RecordError(f"console line {self.lineno}: @meta schema {obj.get('schema')!r} "
                                  f"but the harness reads schema {self.fmt.schema}")
            o.meta = obj
        elif kind == "result":
            self._check_result(obj)
            self._check_samples_count(o, obj)
            o.results.append(obj)
        elif kind == "samples":
            vals = obj.get("values")
            if not isinstance(vals, list) or not all(type(v) is int for v in vals) \
                    or not isinstance(obj.get("bench"), str):
                raise RecordError(f"console line {self.lineno}: @samples needs 'bench' and integer 'values'")
            o.samples.append(obj)
        elif kind == "error":
            o.errors.append(obj)
        elif kind == "fastpath":
            if not isinstance(obj.get("bench"), str) or not isinstance(obj.get("misses"), dict) \
                    or not all(type(v) is int for v in obj["misses"].values()) or type(obj.get("total")) is not int:
                raise RecordError(f"console line {self.lineno}: @fastpath needs 'bench', integer 'total' "
                                  f"and 'misses' of integers")
            o.fastpath.append(obj)
        # Unknown kinds added to the header later are kept out of the log but
        # otherwise ignored, so an old harness still reads a newer guest.

    def _split(self, line):
        for kind, prefix in self._prefixes:
            if line.startswith(prefix):
                return kind, line[len(prefix):]
        word = line.split(" ", 1)[0]
        if word in self._bare:
            return self._bare[word], line[len(word):]
        return None, None

    def _json(self, body, kind):
        try:
            obj = json.loads(body)
        except ValueError as e:
            raise RecordError(f"console line {self.lineno}: malformed @{kind} record: {e}") from None
        if not isinstance(obj, dict):
            raise RecordError(f"console line {self.lineno}: @{kind} record is not a JSON object")
        return obj

    def _check_samples_count(self, o, obj):
        """The raw samples go out just before their @result: as many values as it says it
        took.  Fewer means bytes were lost between guest and harness while the JSON still
        parsed (a dropped ",11" leaves valid JSON), which must not pass as data."""
        if len(o.samples) <= self._samples_checked:
            return                      # no @samples since the last @result
        self._samples_checked = len(o.samples)
        last = o.samples[-1]
        if (last.get("bench"), last.get("variant", ""), last.get("size", -1)) != \
                (obj["bench"], obj.get("variant", ""), obj["size"]):
            return
        if len(last["values"]) != obj["samples"]:
            raise RecordError(f"console line {self.lineno}: @samples of {obj['bench']}/{obj.get('variant', '')} "
                              f"size {obj['size']} has {len(last['values'])} values but its @result took "
                              f"{obj['samples']} samples: console bytes were lost")

    def _check_result(self, obj):
        for k in RESULT_STR_KEYS:
            if not isinstance(obj.get(k), str):
                raise RecordError(f"console line {self.lineno}: @result lacks string field '{k}'")
        for k in RESULT_INT_KEYS:
            # bool is an int subclass in Python; a JSON true is not a count.
            if type(obj.get(k)) is not int:
                raise RecordError(f"console line {self.lineno}: @result field '{k}' is not an integer")


def parse_lines(lines, fmt=None):
    p = Parser(fmt or load_format())
    for line in lines:
        p.feed(line)
    return p.out
