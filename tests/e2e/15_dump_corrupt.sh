# Damaged journals: cdp-dump names each problem with its offset, exits 1,
# and still shows every valid record, before and after the damage.  Each
# case is shown as the difference from the dump of the intact journal.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

# damage HOW OUT: a copy of j.cdpj with record 5 (seq 5, a 13-byte WRITE at
# offset 312) damaged, or for truncation the last numbered record (seq 26,
# an RMDIR at offset 2120).  Offsets come from the headers, not from
# cdp-dump.
damage()
{
	python3 - "$1" "$2" <<'PY'
import struct, sys, zlib
how, out = sys.argv[1], sys.argv[2]
b = bytearray(open("j.cdpj", "rb").read())
recs, off = [], 0
while off < len(b):
    hl, pl = struct.unpack_from("<II", b, off + 8)
    end = off + (hl + pl + 7) // 8 * 8
    recs.append((off, end))
    off = end
o, e = recs[5]
nxt = recs[6][0]
last = recs[-2][0]

def rehdr(h):
    struct.pack_into("<I", h, 44, zlib.crc32(bytes(h[:44])))

if how == "magic":
    b[o] = ord("X")
elif how == "hdr_crc":
    b[o + 24] ^= 1                     # time_ns, CRC not updated
elif how == "payload_crc":
    b[o + 48 + 9] ^= 1
elif how == "trunc_header":
    b = b[:last + 20]
elif how == "trunc_payload":
    b = b[:last + 50]
elif how == "garbage":
    b = b[:o] + b"garbage!" * 3 + b"CDPJ" + bytes(40) + b[o:]
elif how == "gap":
    b = b[:o] + b[nxt:]
elif how == "repeat":
    b = b[:nxt] + b[o:nxt] + b[nxt:]
elif how == "padding":
    b[e - 1] = 1
elif how == "too_big":
    struct.pack_into("<I", b, o + 12, 16 * 1024 * 1024 + 1)
    h = b[o:o + 48]; rehdr(h); b[o:o + 48] = h
elif how == "must_understand":
    struct.pack_into("<H", b, o + 4, 0x0300)
    h = b[o:o + 48]; rehdr(h); b[o:o + 48] = h
elif how == "bad_path":
    p = b.index(b"d/f", o + 48)
    b[p:p + 3] = b"./f"
    pl = struct.unpack_from("<I", b, o + 12)[0]
    struct.pack_into("<I", b, o + 36, zlib.crc32(bytes(b[o + 48:o + 48 + pl])))
    h = b[o:o + 48]; rehdr(h); b[o:o + 48] = h
elif how == "after_end":
    b = b + b[o:nxt]
else:
    sys.exit("damage: unknown: " + how)
open(out, "wb").write(b)
PY
}

+ mkjournal basic j.cdpj
cdp-dump j.cdpj >intact.txt

for how in magic hdr_crc payload_crc trunc_header trunc_payload garbage \
    gap repeat padding too_big must_understand bad_path after_end; do
	damage "$how" "$how.cdpj"
	echo "== $how"
	expect_status 1 cdp-dump "$how.cdpj" >out.txt
	diff intact.txt out.txt || true
done

# ACK and RESUME belong to the return channel, never to a journal.
echo "== acks"
+ mkjournal acks acks.cdpj
expect_status 1 cdp-dump acks.cdpj
