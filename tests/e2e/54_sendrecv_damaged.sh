# A store whose last segment is damaged in a way no crash does (a flipped
# byte in a complete record) is refused, not repaired: cdp-recv exits 1
# naming the segment, the offset and what is wrong, and changes nothing.
# A torn write (zeros up to the end, as a file system may leave) is cut.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

printf '%s\n' hdr 'create 644 a' 'write 0 a AAA' 'create 644 b' \
    'write 0 b BBB' | "$CDP_ROOT/tests/helpers/mkhostile" s1.cdpj
seg=00000000000000000001.cdpj

flip() # FILE OFFSET
{
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]))
b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x40]))' "$@"
}

# In the STREAM_HDR, then in the payload of the last record.
for off in 10 -3; do
	rm -rf st before
	+ cdp-recv st <s1.cdpj >/dev/null
	size=$(stat -c %s "st/$seg")
	[ "$off" -ge 0 ] || off=$((size + off))
	flip "st/$seg" "$off"
	cp -a st before
	expect_status 1 cdp-recv st </dev/null >/dev/null
	rm before/lock st/lock
	diff -r before st || die "the damaged store was changed"
done

# Zeros after the last record: cut off, with a notice.
rm -rf st
+ cdp-recv st <s1.cdpj >/dev/null
head -c 300 /dev/zero >>"st/$seg"
+ cdp-recv st </dev/null >/dev/null
same_records s1.cdpj st
grep -qx 'durable_seq 4' st/state || die "state: $(cat st/state)"
