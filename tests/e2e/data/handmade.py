#!/usr/bin/env python3
"""handmade.py: an independent cdp journal writer, written from
man/cdp-journal.5 alone (the "third party" check of the format).

    handmade.py OUT          write a stream that uses most record types
    handmade.py --small OUT  write the five-record stream of the EXAMPLES

The output is byte-for-byte reproducible: fixed uuid, fixed timestamps,
pinned compressed bytes.  Standard library only.
"""

import struct
import sys
import zlib

MAGIC = b"CDPJ"
HDR_LEN = 48
PAYLOAD_MAX = 16 * 1024 * 1024

F_MUST_UNDERSTAND = 0x0001
F_COMPRESSED = 0x0002

T_STREAM_HDR = 0x0001
T_STREAM_END = 0x0002
T_HEARTBEAT = 0x0003
T_MARK = 0x0010
T_CREATE = 0x0101
T_MKDIR = 0x0102
T_SYMLINK = 0x0103
T_RENAME = 0x0105
T_SETATTR = 0x0108
T_WRITE = 0x0201
T_TRUNCATE = 0x0202
T_FSYNC = 0x0204

# Unnumbered control types carry seq 0; every other type is numbered.
UNNUMBERED = {T_STREAM_HDR, T_STREAM_END, T_HEARTBEAT, 0x0004, 0x0005}
# Types written with MUST_UNDERSTAND (RECORD TYPES table, column MU).
MUST_UNDERSTAND = {T_STREAM_HDR, 0x0004, 0x0005,
                   0x0101, 0x0102, 0x0103, 0x0104, 0x0105, 0x0106,
                   0x0107, 0x0108, 0x0109, 0x010A,
                   0x0201, 0x0202, 0x0203}

ATTR_MODE = 0x01
ATTR_MTIME = 0x10

UUID = bytes.fromhex("00112233445566778899aabbccddeeff")
T0 = 1764081524000000000

# The compressed WRITE: 4096 bytes of "0123456789abcdef" at offset 13 of
# d/f.  Its payload, deflated once with zlib.compress(payload, 9) (zlib
# 1.2.13), is pinned here so that the output does not depend on the zlib
# build (zlib-ng, say, deflates differently); record() checks that it
# inflates back to the payload.
BIG_OFFSET = 13
BIG_DATA = b"0123456789abcdef" * 256
BIG_DEFLATED = bytes.fromhex(
    "78daedc7b91100101440413362b5b8af72f0e9bf04812eccdb6c8d7ab4127b9c"
    "0f31e5525b1f73c9e69c73ce39e79c73cef987bffc776346")


def crc32(b):
    return zlib.crc32(b) & 0xFFFFFFFF


def s(text):
    """str: u16 length, then the bytes, no NUL, no terminator."""
    b = text.encode() if isinstance(text, str) else text
    assert b"\0" not in b and len(b) <= 0xFFFF
    return struct.pack("<H", len(b)) + b


class Writer:
    def __init__(self):
        self.out = bytearray()
        self.seq = 0          # last seq given out
        self.n = 0            # records written, for the timestamps

    def record(self, rtype, payload, stored=None):
        numbered = rtype not in UNNUMBERED
        if numbered:
            self.seq += 1
            seq = self.seq
        else:
            seq = 0
        flags = F_MUST_UNDERSTAND if rtype in MUST_UNDERSTAND else 0
        raw_len = len(payload)
        if stored is None:
            stored = payload
        else:
            # A complete zlib stream that inflates to exactly raw_len
            # bytes, nothing after it, and strictly shorter than the raw
            # payload; otherwise the record must not be COMPRESSED.
            d = zlib.decompressobj()
            assert d.decompress(stored, raw_len) == payload
            assert d.eof and not d.unused_data and not d.unconsumed_tail
            assert len(stored) < raw_len
            flags |= F_COMPRESSED
        assert raw_len <= PAYLOAD_MAX and len(stored) <= PAYLOAD_MAX
        time_ns = T0 + self.n * 1000000
        self.n += 1
        head = struct.pack("<4sHHIIQqIII", MAGIC, rtype, flags, HDR_LEN,
                           len(stored), seq, time_ns, raw_len,
                           crc32(stored), 0)
        assert len(head) == 44
        hdr = head + struct.pack("<I", crc32(head))
        pad = (8 - len(stored) % 8) % 8
        self.out += hdr + stored + b"\0" * pad
        assert len(self.out) % 8 == 0

    # Payload encoders, fixed-width fields first, strings, then data.
    def stream_hdr(self, source):
        self.record(T_STREAM_HDR,
                    struct.pack("<HHI", 1, 0, 0) + UUID + s(source))

    def stream_end(self):
        self.record(T_STREAM_END, struct.pack("<Q", self.seq))

    def heartbeat(self):
        self.record(T_HEARTBEAT, b"")

    def mark(self, name):
        self.record(T_MARK, struct.pack("<I", 0) + s(name))

    def create(self, path, mode):
        self.record(T_CREATE, struct.pack("<I", mode) + s(path))

    def mkdir(self, path, mode):
        self.record(T_MKDIR, struct.pack("<I", mode) + s(path))

    def symlink(self, path, target):
        self.record(T_SYMLINK, s(path) + s(target))

    def rename(self, src, dst, flags=0):
        self.record(T_RENAME, struct.pack("<I", flags) + s(src) + s(dst))

    def setattr(self, path, valid, mode=0, uid=0, gid=0, atime_ns=0,
                mtime_ns=0):
        self.record(T_SETATTR,
                    struct.pack("<IIIIqq", valid, mode, uid, gid, atime_ns,
                                mtime_ns) + s(path))

    def write(self, path, offset, data, deflated=None):
        self.record(T_WRITE, struct.pack("<Q", offset) + s(path) + data,
                    deflated)

    def truncate(self, path, size):
        self.record(T_TRUNCATE, struct.pack("<Q", size) + s(path))

    def fsync(self, path, flags=0):
        self.record(T_FSYNC, struct.pack("<I", flags) + s(path))


def small():
    w = Writer()
    w.stream_hdr("handmade")
    w.mkdir("d", 0o755)
    w.create("d/f", 0o644)
    w.write("d/f", 0, b"hi\n")
    w.stream_end()
    return w.out


def full():
    w = Writer()
    w.stream_hdr("handmade")
    w.mkdir("d", 0o755)
    w.create("d/f", 0o644)
    w.write("d/f", 0, b"hello, world\n")
    w.write("d/f", BIG_OFFSET, BIG_DATA, deflated=BIG_DEFLATED)
    w.symlink("d/l", "f")
    w.rename("d/f", "d/g", 0)
    w.setattr("d/g", ATTR_MODE | ATTR_MTIME, mode=0o600,
              mtime_ns=T0 - 3600 * 1000000000)
    w.mark("first")
    w.heartbeat()
    w.truncate("d/g", 5)
    w.fsync("", 0)
    w.stream_end()
    return w.out


def main(argv):
    args = argv[1:]
    make = full
    if args and args[0] == "--small":
        make = small
        args = args[1:]
    if len(args) != 1:
        sys.stderr.write("usage: handmade.py [--small] OUT\n")
        return 2
    with open(args[0], "wb") as f:
        f.write(make())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
