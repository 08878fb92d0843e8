# 10_codec: how fast the journal writer frames and the reader validates
# 1 MiB WRITE records, against two floors: cat(1) reading the same journal
# (the cost of just moving the bytes) and zlib's crc32() over the same bytes
# in memory (the cost of the checksum alone).  The journal lives on tmpfs
# and the page cache is warm, so no disk is measured.  Best of 3 runs.
# Output format: see scripts/bench.sh.
set -eu

bc=$CDP_ROOT/tests/helpers/bench_codec
[ -x "$bc" ] || { echo "10_codec: $bc is not built (make all)" >&2; exit 1; }
mib=${BENCH_CODEC_MIB:-1024}
runs=3

# Room for the journal on tmpfs (and as much again in memory for crc32).
avail=$(df -Pk "$BENCH_TMP" | awk 'NR == 2 { print int($4 / 1024) }')
if [ "$avail" -lt $((mib + 64)) ]; then
	mib=$((avail / 2))
	echo "10_codec: only $avail MiB free in $BENCH_TMP; using $mib MiB" >&2
	[ "$mib" -ge 16 ] || { echo "10_codec: not enough room" >&2; exit 1; }
fi
journal=$BENCH_TMP/codec.cdpj

# field NAME LINE: the value of NAME=VALUE in a bench_codec output line.
field()
{
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# best CMD...: run a bench_codec command $runs times; print the best GB/s.
best()
{
	local i out rate top=0
	for ((i = 0; i < runs; i++)); do
		out=$("$@")
		rate=$(awk -v b="$(field bytes "$out")" -v s="$(field seconds "$out")" \
		    'BEGIN { printf "%.3f", b / s / 1e9 }')
		top=$(awk -v a="$rate" -v b="$top" 'BEGIN { print (a > b) ? a : b }')
	done
	echo "$top"
}

# best_cat: the same for cat FILE > /dev/null, timed by the shell.
best_cat()
{
	local i t0 t1 rate top=0 size
	size=$(stat -c %s "$journal")
	for ((i = 0; i < runs; i++)); do
		t0=$EPOCHREALTIME
		cat "$journal" >/dev/null
		t1=$EPOCHREALTIME
		rate=$(awk -v b="$size" -v s0="$t0" -v s1="$t1" \
		    'BEGIN { printf "%.3f", b / (s1 - s0) / 1e9 }')
		top=$(awk -v a="$rate" -v b="$top" 'BEGIN { print (a > b) ? a : b }')
	done
	echo "$top"
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
}

echo "10_codec: encoding $mib MiB to /dev/null" >&2
enc=$(best "$bc" encode /dev/null "$mib")
echo "10_codec: writing the $mib MiB journal to $BENCH_TMP" >&2
"$bc" encode "$journal" "$mib" >/dev/null
cat "$journal" >/dev/null		# warm
echo "10_codec: decoding" >&2
dec=$(best "$bc" decode "$journal")
cat_rate=$(best_cat)
echo "10_codec: crc32" >&2
crc=$(best "$bc" crc32 "$journal")

goal=$(awk -v d="$dec" 'BEGIN { print (d >= 2) ? ">= 2 GB/s: met" : ">= 2 GB/s: NOT MET" }')
what_enc="cdp_writer frames $mib records of 1 MiB (WRITE, uncompressed, header and payload CRCs) and writes them to /dev/null; higher is better"
what_dec="cdp_reader reads a $mib MiB journal of 1 MiB WRITE records from tmpfs: header checks, both CRCs, payload decode, stream rules; higher is better"
echo "encode/cat|$what_enc; reference: cat of the same journal to /dev/null|$enc GB/s|cat: $cat_rate GB/s|$(ratio "$enc" "$cat_rate")|-"
echo "encode/crc32|$what_enc; reference: zlib crc32() alone over the same bytes in memory|$enc GB/s|crc32: $crc GB/s|$(ratio "$enc" "$crc")|-"
echo "decode/cat|$what_dec; reference: cat of the same file to /dev/null|$dec GB/s|cat: $cat_rate GB/s|$(ratio "$dec" "$cat_rate")|$goal"
echo "decode/crc32|$what_dec; reference: zlib crc32() alone over the same bytes in memory|$dec GB/s|crc32: $crc GB/s|$(ratio "$dec" "$crc")|$goal"
