#!/bin/bash
# fuzz.sh: fuzz the parsers of untrusted input (tests/fuzz/fuzz_*.c).
#
# Targets: reader (journal and pcap bytes, the default), manifest (the
# bucket manifest), xml (S3's XML replies), lease (the S3 lease object),
# apply (the apply engine fed hostile records: nothing outside the target
# may change).
#
# usage: scripts/fuzz.sh build [TARGET ...]
#                                       libFuzzer targets (default all),
#                                       clang, ASan+UBSan
#        scripts/fuzz.sh run SECONDS [TARGET]
#                                       fuzz TARGET (default reader) for
#                                       SECONDS (builds if needed)
#        scripts/fuzz.sh replay [TARGET] [FILE|DIR ...]
#                                       run inputs through a plain driver
#                                       (tests/fuzz/replay.c), with
#                                       ASan+UBSan when the compiler has
#                                       them: without arguments every
#                                       target's corpus; with files and no
#                                       TARGET, the reader
#        scripts/fuzz.sh seed           rewrite the seeds in tests/fuzz/corpus
#                                       (NN-*.cdpj, NN-*.pcap) from
#                                       tests/e2e/data/handmade.py
#
# Everything is built in $FUZZ_BUILD (default fuzz-build/ at the top of the
# tree).  run fuzzes a copy of the seed corpus in $FUZZ_BUILD/corpus-TARGET
# and writes crashes to $FUZZ_BUILD/crashes-TARGET, never into the
# repository.  The seeds are tests/fuzz/corpus for the reader and
# tests/fuzz/corpus-TARGET for the others; tests/fuzz/TARGET.dict, if
# there, is libFuzzer's dictionary.  To keep an input that found a bug,
# copy it into the target's seed corpus (keep each small: under 20 files
# and 64 KiB).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$root/fuzz-build}
seeds=$root/tests/fuzz/corpus
targets="reader manifest xml lease apply"
# The libraries libcommon uses: the Makefile's list, so there is one list.
pkgs=$(sed -n 's/^PKGS_COMMON[[:space:]]*[:?]*=//p' "$root/Makefile")
prog=${0##*/}

die()
{
	echo "$prog: $*" >&2
	exit 1
}

usage()
{
	echo "usage: $prog build [TARGET ...] | run SECONDS [TARGET] |" \
	    "replay [TARGET] [FILE|DIR ...] | seed" >&2
	echo "targets: $targets" >&2
	exit 2
}

is_target()
{
	case " $targets " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# The seed corpus of a target.
corpus_of()
{
	if [ "$1" = reader ]; then
		echo "$seeds"
	else
		echo "$seeds-$1"
	fi
}

# Longest input libFuzzer makes for a target: a journal may be long; the
# others are small texts, or a script of records.
max_len_of()
{
	case $1 in
	reader) echo 65536 ;;
	apply) echo 4096 ;;
	*) echo 16384 ;;
	esac
}

pc()
{
	# shellcheck disable=SC2086
	pkg-config "$1" $pkgs 2>/dev/null || true
}

# compile_lib CC OUTDIR FLAGS...: libcommon/*.c into OUTDIR/libcommon.a.
compile_lib()
{
	local cc=$1 out=$2 src obj
	shift 2
	mkdir -p "$out/obj"
	rm -f "$out"/obj/*.o "$out/libcommon.a"
	for src in "$root"/libcommon/*.c; do
		[ -e "$src" ] || die "no libcommon/*.c to build"
		obj=$out/obj/$(basename "${src%.c}").o
		# shellcheck disable=SC2046
		"$cc" -std=gnu11 -D_GNU_SOURCE -I"$root/libcommon" "$@" \
		    $(pc --cflags) -c -o "$obj" "$src"
	done
	ar rcs "$out/libcommon.a" "$out"/obj/*.o
}

do_build()
{
	command -v clang >/dev/null || die "clang is not installed (scripts/deps.sh)"
	local san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	local flags="-g -O1 -fno-omit-frame-pointer -Wall -Wextra" t
	# shellcheck disable=SC2086
	[ $# -gt 0 ] || set -- $targets
	for t; do
		is_target "$t" || usage
	done
	echo "$prog: building libcommon for $*"
	# shellcheck disable=SC2086
	compile_lib clang "$build/fuzzer" $flags $san -fsanitize=fuzzer-no-link
	for t; do
		echo "$prog: building $build/fuzz_$t"
		# shellcheck disable=SC2046,SC2086
		clang -std=gnu11 -D_GNU_SOURCE -I"$root/libcommon" $flags \
		    $san $(pc --cflags) -fsanitize=fuzzer -o "$build/fuzz_$t" \
		    "$root/tests/fuzz/fuzz_$t.c" "$build/fuzzer/libcommon.a" \
		    $(pc --libs) -lpthread
	done
}

do_run()
{
	local secs=${1:-} t=${2:-reader} dict
	case $secs in
	''|*[!0-9]*) usage ;;
	esac
	is_target "$t" || usage
	[ -x "$build/fuzz_$t" ] || do_build "$t"
	mkdir -p "$build/corpus-$t" "$build/crashes-$t"
	cp -n "$(corpus_of "$t")"/* "$build/corpus-$t/" 2>/dev/null || true
	dict=$root/tests/fuzz/$t.dict
	echo "$prog: fuzzing $t for ${secs}s; corpus $build/corpus-$t," \
	    "crashes in $build/crashes-$t"
	# shellcheck disable=SC2046
	"$build/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len_of "$t")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    $([ -f "$dict" ] && echo "-dict=$dict") \
	    -artifact_prefix="$build/crashes-$t/" "$build/corpus-$t"
}

# replay_one TARGET FILE|DIR ...: the inputs through TARGET's driver.
replay_one()
{
	local t=$1
	shift
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
	    "$build/replay/fuzz_${t}_replay" "$@"
}

# replay [TARGET] [FILE|DIR ...]: see the usage above.
do_replay()
{
	local cc=${CC:-cc} san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	local flags="-g -O1 -fno-omit-frame-pointer -Wall -Wextra" out=$build/replay
	local t list rc=0
	command -v "$cc" >/dev/null || cc=gcc
	if [ $# -gt 0 ] && is_target "$1"; then
		list=$1
		shift
	elif [ $# -gt 0 ]; then
		list=reader
	else
		list=$targets
	fi
	mkdir -p "$out"
	# Sanitizers if this compiler can link them, else a plain build.
	# shellcheck disable=SC2086
	if ! printf 'int main(void){return 0;}\n' |
	    "$cc" $san -x c -o "$out/probe" - 2>/dev/null; then
		echo "$prog: $cc cannot link ASan/UBSan; replaying without them" >&2
		san=
	fi
	rm -f "$out/probe"
	# shellcheck disable=SC2086
	compile_lib "$cc" "$out" $flags $san
	for t in $list; do
		# shellcheck disable=SC2046,SC2086
		"$cc" -std=gnu11 -D_GNU_SOURCE -I"$root/libcommon" $flags $san \
		    $(pc --cflags) -o "$out/fuzz_${t}_replay" \
		    "$root/tests/fuzz/fuzz_$t.c" "$root/tests/fuzz/replay.c" \
		    "$out/libcommon.a" $(pc --libs) -lpthread
	done
	if [ $# -gt 0 ]; then
		replay_one "$list" "$@" || rc=$?
	else
		for t in $list; do
			[ -d "$(corpus_of "$t")" ] ||
			    die "$t: no corpus $(corpus_of "$t")"
			replay_one "$t" "$(corpus_of "$t")" || rc=$?
		done
	fi
	return "$rc"
}

# seed: the seed corpus.  The valid journals come from handmade.py (written
# from man/cdp-journal.5 alone); the rest are damaged copies of them, each
# aimed at one of the reader's checks.  Reproducible byte for byte.
do_seed()
{
	local gen=$root/tests/e2e/data/handmade.py tmp
	[ -f "$gen" ] || die "$gen is missing"
	tmp=$(mktemp -d)
	python3 "$gen" --small "$tmp/small.cdpj"
	python3 "$gen" "$tmp/full.cdpj"
	mkdir -p "$seeds"
	python3 - "$tmp/small.cdpj" "$tmp/full.cdpj" "$seeds" <<'EOF'
import os, struct, sys, zlib

small = open(sys.argv[1], "rb").read()
full = open(sys.argv[2], "rb").read()
out = sys.argv[3]
UNNUMBERED = {1, 2, 3, 4, 5}

def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF

def parse(j):
    recs, off = [], 0
    while off < len(j):
        (magic, typ, flags, hdr_len, plen, seq, t, raw_len, pcrc, res,
         hcrc) = struct.unpack_from("<4sHHIIQqIIII", j, off)
        payload = j[off + hdr_len:off + hdr_len + plen]
        recs.append(dict(type=typ, flags=flags, seq=seq, time=t,
                         raw_len=raw_len, payload=payload, extra=b""))
        off += hdr_len + plen + (8 - plen % 8) % 8
    return recs

def frame(r, pad=None, fix_crc=True):
    p = r["payload"]
    hdr_len = 48 + len(r["extra"])
    head = struct.pack("<4sHHIIQqIII", b"CDPJ", r["type"], r["flags"],
                       hdr_len, len(p), r["seq"], r["time"],
                       r.get("raw_len", len(p)), crc(p), 0)
    hdr = head + struct.pack("<I", crc(head)) + r["extra"]
    return hdr + p + (pad if pad is not None else b"\0" * ((8 - len(p) % 8) % 8))

def renumber(recs):
    seq = 0
    for r in recs:
        if r["type"] in UNNUMBERED:
            r["seq"] = 0
            if r["type"] == 2:
                r["payload"] = struct.pack("<Q", seq)
        else:
            seq += 1
            r["seq"] = seq
    return recs

def join(recs):
    return b"".join(frame(r) for r in recs)

def rec(typ, payload, flags=0, seq=0):
    return dict(type=typ, flags=flags, seq=seq, time=1764081524000000000,
                raw_len=len(payload), payload=payload, extra=b"")

def s(b):
    return struct.pack("<H", len(b)) + b

files = {}
files["01-small.cdpj"] = small
files["02-full.cdpj"] = full
assert join(parse(full)) == full, "re-framing changes the journal"

# A second stream with its own uuid after the first.
second = parse(small)
second[0]["payload"] = (second[0]["payload"][:8] + bytes(range(16)) +
                        second[0]["payload"][24:])
files["03-two-streams.cdpj"] = full + join(second)
# The same stream again: a resumed section whose numbering must go on.
files["04-resumed-repeat.cdpj"] = small + small

r = parse(full)
files["05-truncated-header.cdpj"] = full[:len(frame(r[0])) + 20]
files["06-truncated-payload.cdpj"] = full[:len(join(r[:4])) + 48 + 9]

b = bytearray(full)
b[len(frame(r[0])) + 5] ^= 0x40          # flags of record 2, hdr_crc not fixed
files["07-bad-header-crc.cdpj"] = bytes(b)
b = bytearray(full)
b[60] ^= 0xff                            # inside the STREAM_HDR payload
files["08-bad-payload-crc.cdpj"] = bytes(b)

cut = len(join(r[:3]))
files["09-garbage.cdpj"] = full[:cut] + b"garbage\x00CDPJ!" + full[cut:]

g = parse(full)
for x in g[4:]:
    if x["seq"]:
        x["seq"] += 5
files["10-seq-gap.cdpj"] = join(g)

u = parse(full)
u.insert(3, rec(0x7777, b"skip me"))
u.insert(5, rec(0x7778, b"", flags=0))
files["11-unknown-skippable.cdpj"] = join(renumber(u))
u = parse(full)
u.insert(3, rec(0x7779, b"stop here", flags=1))
files["12-unknown-must-understand.cdpj"] = join(renumber(u))

p = parse(small)
n = (8 - len(p[2]["payload"]) % 8) % 8   # the CREATE: 7 bytes of padding
assert n > 0
files["13-nonzero-padding.cdpj"] = b"".join(
    frame(x, pad=b"\0" * (n - 1) + b"x" if i == 2 else None)
    for i, x in enumerate(p))

c = parse(full)
for x in c:
    if x["flags"] & 2:
        x["payload"] = x["payload"][:20] + b"\x00\xff" + x["payload"][22:]
files["14-bad-compressed.cdpj"] = join(c)

head = struct.pack("<4sHHIIQqIII", b"CDPJ", 0x0201, 1, 48, 0x7FFFFFF0, 1,
                   0, 0x7FFFFFF0, 0, 0)
files["15-huge-length.cdpj"] = frame(parse(small)[0]) + head + \
    struct.pack("<I", crc(head)) + b"\0" * 16

bp = parse(small)
bp.insert(2, rec(0x0101, struct.pack("<I", 0o100644) + s(b"d/../../etc/x"),
                 flags=1))
bp.insert(3, rec(0x0103, s(b"/abs") + s(b"t"), flags=1))
files["16-bad-paths.cdpj"] = join(renumber(bp))

h = parse(full)
for x in h:
    x["extra"] = b"\xee" * 8
files["17-long-headers.cdpj"] = join(h)

def pcap(j, linktype=147, chunk=100):
    o = struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, linktype)
    for i in range(0, len(j), chunk):
        d = j[i:i + chunk]
        o += struct.pack("<IIII", 1764081524, i, len(d), len(d)) + d
    return o

files["18-full.pcap"] = pcap(full)
files["19-wrong-linktype.pcap"] = pcap(small, linktype=1)

total = 0
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    total += len(data)
assert len(files) < 20 and total < 64 * 1024, (len(files), total)
# Other files in the corpus (inputs that once found a bug) are left alone.
print("seed: wrote %d files, %d bytes, in %s" % (len(files), total, out))
EOF
	rm -rf "$tmp"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
build) do_build "$@" ;;
run) [ $# -eq 1 ] || [ $# -eq 2 ] || usage; do_run "$@" ;;
replay) do_replay "$@" ;;
seed) [ $# -eq 0 ] || usage; do_seed ;;
*) usage ;;
esac
