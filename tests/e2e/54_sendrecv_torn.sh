# A store left by a crash: a torn record at the end of the last segment,
# garbage after the last record, a new segment with only part of its
# header.  cdp-recv cuts each off with a message and resumes right after
# the last sound record.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

+ mkload -n 300 -s 1000 load.cdpj
+ cdp-send -i load.cdpj store
seg=store/00000000000000000001.cdpj
size=$(stat -c %s "$seg")

# Torn: the last 30 bytes (of STREAM_END) gone.
+ truncate -s $((size - 30)) "$seg"
+ cdp-send -i load.cdpj store
same_records load.cdpj store
grep -qx 'durable_seq 308' store/state || die "state: $(cat store/state)"

# Garbage after the last record.
printf 'not a record at all' >>"$seg"
+ cdp-send -i load.cdpj store
same_records load.cdpj store

# A new segment that got only part of its STREAM_HDR.
head -c 20 "$seg" >store/00000000000000000309.cdpj
+ cdp-send -i load.cdpj store
[ ! -e store/00000000000000000309.cdpj ] || die "torn segment kept"
same_records load.cdpj store
