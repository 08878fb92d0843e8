# Every input in the fuzz corpus (tests/fuzz/corpus: valid journals and
# damaged ones, each aimed at one check of the reader) goes through the
# fuzz harness built as a plain program with ASan and UBSan.  The reader must
# neither crash, nor leak, nor touch memory it does not own, nor get stuck.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

corpus=$CDP_ROOT/tests/fuzz/corpus
n=$(find "$corpus" -type f | wc -l)
[ "$n" -gt 0 ] || die "no files in $corpus"

rc=0
FUZZ_BUILD=$PWD/build "$CDP_ROOT/scripts/fuzz.sh" replay "$corpus" \
    >replay.out 2>replay.err || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 40 replay.err >&2
	die "fuzz.sh replay: exit status $rc"
fi
ok=$(grep -c '^ok ' replay.out || true)
[ "$ok" -eq "$n" ] || die "replayed $ok of $n corpus files"
grep -v 'cannot link ASan' replay.err >&2 || true
echo "replayed every corpus file"
