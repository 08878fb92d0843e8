# A damaged bucket is told precisely, never trusted: a segment object
# with a flipped byte (cdp-verify: the object's name and the offset in
# it, exit 1); a segment object shorter than the manifest says or gone, a
# manifest cut short or naming objects out of order (exit 2: the bucket
# cannot be read as the manifest says).  cdp-replay stops at the damage with exit 1 and
# keeps what came before.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
s3ctl mb s3://cdp67 >/dev/null
B=s3://cdp67/app
mkload -n 300 -s 1000 j.cdpj
cdp-recv --stage st --seal-after 40k "$B" <j.cdpj >/dev/null 2>&1
s3ctl get "$B" manifest >manifest.good
seg=$(awk '$1 == "segment" { n++; if (n == 2) print $2 }' manifest.good)
name=$(printf '%020d.cdpj' "$seg")
s3ctl get "$B" "$name" >seg.good
+ cdp-verify -q "$B"

# One byte flipped in the middle of the second segment.
python3 -c 'import sys
b = bytearray(open("seg.good", "rb").read()); b[len(b) // 2] ^= 0x40
open("seg.bad", "wb").write(b)'
s3ctl put "$B" "$name" seg.bad
expect_status 1 cdp-verify "$B" >/dev/null 2>verify.err
grep -q "$name: offset [0-9]*: " verify.err || die "no object and offset: $(cat verify.err)"
mkdir r
expect_status 1 cdp-replay -C r "$B" 2>replay.err
grep -q "$name: offset" replay.err || die "$(cat replay.err)"
[ -s r/f000 ] || die "nothing kept of what came before the damage"

# Shorter than the manifest says.
head -c 100 seg.good >seg.short
s3ctl put "$B" "$name" seg.short
expect_status 2 cdp-verify -q "$B"
cdp-verify "$B" 2>&1 | grep -q "$name: 100 bytes, the manifest says" ||
    die "$(cdp-verify "$B" 2>&1)"
s3ctl put "$B" "$name" seg.good

# Gone.
s3ctl rm "$B" "$name"
expect_status 2 cdp-verify -q "$B"
s3ctl put "$B" "$name" seg.good
+ cdp-verify -q "$B"

# Manifests that are not to be believed.
head -c 60 manifest.good >m.cut
s3ctl put "$B" manifest m.cut
expect_status 2 cdp-verify "$B"
awk '$1 == "segment" && !done { hold = $0; done = 1; next }
    $1 == "end" { print hold } { print }' manifest.good >m.order
s3ctl put "$B" manifest m.order
expect_status 2 cdp-verify "$B"
s3ctl put "$B" manifest manifest.good
+ cdp-verify -q "$B"
