# cdp-dump --pcap writes a pcap file (LINKTYPE_USER0, nanosecond
# timestamps) that cdp-dump reads back as the same journal: also for
# records larger than the snap length, which span several packets, and
# through a pipe.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkjournal() { "$CDP_ROOT/tests/helpers/mkjournal" "$@"; }

# same A B: the text dumps of A and B agree (apart from the name in the
# comment line of an open stream).
same()
{
	cdp-dump --data "$1" >a.txt || die "cdp-dump $1 failed"
	cdp-dump --data "$2" | sed "s|^# $2:|# $1:|" >b.txt ||
	    die "cdp-dump $2 failed"
	diff -u a.txt b.txt >&2 || die "$1 and $2 dump differently"
}

+ mkjournal basic basic.cdpj
+ mkjournal big big.cdpj
+ mkjournal -z 6 big bigz.cdpj
+ mkjournal unknown unknown.cdpj
+ mkjournal open open.cdpj
for j in basic big bigz unknown open; do
	+ cdp-dump --pcap "$j.pcap" "$j.cdpj"
	same "$j.cdpj" "$j.pcap"
done

# The file header: nanosecond magic, version 2.4, snaplen 262144, link
# type 147.
header=$(od -A n -t x1 -N 24 basic.pcap | tr -d ' \n')
[ "$header" = 4d3cb2a10200040000000000000000000000040093000000 ] ||
    die "unexpected pcap header: $header"

# The first packet: the STREAM_HDR (96 bytes), stamped
# 2026-11-25T14:38:44.123456789Z.
packet=$(od -A n -t x1 -j 24 -N 20 basic.pcap | tr -d ' \n')
[ "$packet" = f4f2066b15cd5b0760000000600000004344504a ] ||
    die "unexpected first packet: $packet"

# A 16 MiB record spans 64 packets of 262144 bytes and one more.
python3 - big.pcap <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
off, sizes = 24, []
while off < len(b):
    sec, frac, incl, orig = struct.unpack_from("<IIII", b, off)
    assert incl == orig and incl <= 262144
    sizes.append(incl)
    off += 16 + incl
assert off == len(b)
assert max(sizes) == 262144, sizes
assert sizes.count(262144) >= 64, sizes
PY

# Several operands go to one file; "-" is standard output.
+ cdp-dump --pcap - basic.cdpj unknown.cdpj >both.pcap
cat basic.cdpj unknown.cdpj >both.cdpj
same both.cdpj both.pcap
+ cdp-dump --pcap - basic.cdpj | cdp-dump >piped.txt
cdp-dump basic.cdpj | cmp - piped.txt

# A packet analyser sees one packet per record.
if command -v tshark >/dev/null 2>&1; then
	n=$(tshark -r basic.pcap 2>/dev/null | wc -l)
	[ "$n" -eq 31 ] || die "tshark shows $n packets, want 31"
fi
