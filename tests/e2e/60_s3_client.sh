# The S3 client (libcommon/cdp_s3*.c), through tests/helpers/s3ctl, against
# a throwaway Ceph radosgw: a bucket, small objects and names that need
# encoding, ranges, a 40 MiB object sent as a multipart upload, listings
# (and their pages), deletes; and the messages for a missing object, a
# missing bucket, wrong keys (which they must not repeat), a bad
# configuration and an object store that went away and came back.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
B=s3://cdp-test

+ s3ctl mb $B
expect_status 1 s3ctl mb $B

# Small objects, whole and in ranges.
printf 'hello, object store\n' >small
+ s3ctl put $B/a small.txt small
+ s3ctl get $B/a small.txt >got
cmp small got
+ s3ctl get $B/a small.txt 7 6 >got
[ "$(cat got)" = "object" ] || die "range 7+6: '$(cat got)'"
+ s3ctl get $B/a small.txt 7 0 >got
[ "$(cat got)" = "object store" ] || die "range 7-: '$(cat got)'"
# Past the end: nothing, and no error.
+ s3ctl get $B/a small.txt 100 10 >got
[ ! -s got ] || die "a range past the end gave bytes"
[ "$(s3ctl head $B/a small.txt)" = 20 ] || die "head: wrong size"
: >empty
+ s3ctl put $B/a empty empty
+ s3ctl get $B/a empty >got
[ ! -s got ] || die "the empty object is not"

# Names that need %-encoding in the URL and in the signature.
for n in 'dir/with space+plus%25&=?.txt' 'caf'$'\xc3\xa9''/~tilde*star' \
    "quote'and\"double" 'a<b>&c'; do
	printf '%s\n' "$n" >named
	+ s3ctl put $B/a "$n" named
	s3ctl get $B/a "$n" >got
	cmp named got || die "$n: wrong contents"
done
+ s3ctl ls $B/a

# 40 MiB and a bit: a multipart upload (16 MiB threshold, 8 MiB parts).
head -c $((40 * 1024 * 1024 + 12345)) /dev/urandom >big
+ s3ctl put $B/a big.bin big
+ s3ctl get $B/a big.bin >got
cmp big got || die "big.bin came back different"
+ s3ctl get $B/a big.bin $((40 * 1024 * 1024)) 0 >got
tail -c 12345 big | cmp - got || die "big.bin: the last 12345 bytes differ"
+ s3ctl get $B/a big.bin 1000000 65536 >got
tail -c +1000001 big | head -c 65536 | cmp - got ||
    die "big.bin: a range in the middle differs"
s3ctl head $B/a big.bin

# Listings: under a prefix, the whole bucket, and in pages of 7.
for i in $(seq -w 1 25); do
	printf '%s' "$i" >obj
	s3ctl put $B/many "obj$i" obj
done
s3ctl ls $B/many >all
[ "$(wc -l <all)" = 25 ] || die "ls: $(wc -l <all) objects, want 25"
CDP_S3_MAX_KEYS=7 s3ctl ls $B/many >paged
cmp all paged || die "a listing in pages differs"
+ s3ctl ls $B

# Deletes; deleting what is not there is no error.
+ s3ctl rm $B/a big.bin
+ s3ctl rm $B/a big.bin
expect_status 1 s3ctl head $B/a big.bin
expect_status 1 s3ctl get $B/a big.bin
+ s3ctl ls $B/a

# A missing bucket.
expect_status 1 s3ctl ls s3://no-such-bucket
expect_status 1 s3ctl put s3://no-such-bucket/p x small
expect_status 1 s3ctl rm s3://no-such-bucket/p x

# Wrong keys: 403, and the message repeats neither key.
bad_secret=Wrong-Secret-Key-0123456789
AWS_SECRET_ACCESS_KEY=$bad_secret expect_status 1 s3ctl ls $B 2>msg
AWS_ACCESS_KEY_ID=NOSUCHACCESSKEY4242 expect_status 1 \
    s3ctl get $B/a small.txt 2>>msg
cat msg >&2
if grep -e "$bad_secret" -e "$AWS_SECRET_ACCESS_KEY" -e "$AWS_ACCESS_KEY_ID" \
    -e NOSUCHACCESSKEY4242 msg >/dev/null; then
	die "a message repeats a key"
fi

# A bad configuration is refused before any request.
AWS_ACCESS_KEY_ID='' expect_status 1 s3ctl ls $B
AWS_ENDPOINT_URL=http://192.0.2.1:7480 expect_status 1 s3ctl ls $B
AWS_ENDPOINT_URL=http://user:hunter2secret@127.0.0.1:7480 expect_status 1 \
    s3ctl ls $B 2>msg
cat msg >&2
! grep hunter2secret msg >/dev/null || die "a message repeats the password"
AWS_ENDPOINT_URL=http://127.0.0.1:7480/path expect_status 1 s3ctl ls $B
expect_status 1 s3ctl ls s3://x
expect_status 1 s3ctl ls s3://cdp-test/a/../b
expect_status 1 s3ctl get $B/a ../small.txt

# The object store goes away (a clear message, after a few tries), then
# comes back on the same port.
stop_rgw
expect_status 1 s3ctl -t 2 ls $B
start_rgw
+ s3ctl get $B/a small.txt
