# A store whose last segment ends inside a record (cdp-recv is writing it,
# or stopped while it did) holds an open stream, not a damaged one
# (cdp-journal(5), STORE DIRECTORY): cdp-verify and cdp-dump accept it.
# The same bytes as a plain journal file are a truncated record: exit 1.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

python3 "$CDP_TEST_DATA/handmade.py" h.cdpj
+ cdp-send -i h.cdpj store
seg=$(echo store/*.cdpj)
# Cut the last record (STREAM_END, 56 bytes) short by 7 bytes.
head -c -7 "$seg" >cut
cat cut >"$seg"
+ cdp-verify store
+ cdp-dump store >dump.txt
tail -n 1 dump.txt
cp cut torn.cdpj
expect_status 1 cdp-verify -q torn.cdpj
expect_status 1 cdp-dump torn.cdpj >/dev/null 2>&1
