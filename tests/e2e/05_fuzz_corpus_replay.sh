# Every input in the fuzz corpora goes through its fuzz harness built as a
# plain program with ASan and UBSan: tests/fuzz/corpus (valid journals and
# damaged ones, each aimed at one check of the reader) and
# tests/fuzz/corpus-TARGET (bucket manifests, S3 XML replies, lease
# objects, scripts of hostile records for the apply engine), among them
# the inputs that once found a bug.  No parser may crash, leak, touch
# memory it does not own or get stuck, and the apply engine may change
# nothing outside its target.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

n=0
for corpus in "$CDP_ROOT"/tests/fuzz/corpus "$CDP_ROOT"/tests/fuzz/corpus-*; do
	k=$(find "$corpus" -type f | wc -l)
	[ "$k" -gt 0 ] || die "no files in $corpus"
	n=$((n + k))
done
for t in reader manifest xml lease apply; do
	[ -f "$CDP_ROOT/tests/fuzz/fuzz_$t.c" ] || die "no harness for $t"
done

rc=0
FUZZ_BUILD=$PWD/build TMPDIR=$PWD "$CDP_ROOT/scripts/fuzz.sh" replay \
    >replay.out 2>replay.err || rc=$?
if [ "$rc" -ne 0 ]; then
	tail -n 40 replay.err >&2
	die "fuzz.sh replay: exit status $rc"
fi
ok=$(grep -c '^ok ' replay.out || true)
[ "$ok" -eq "$n" ] || die "replayed $ok of $n corpus files"
# The apply harness removes its scratch tree when done.
if ls -d "$PWD"/cdp-fuzz-apply.* >/dev/null 2>&1; then
	die "the apply harness left its scratch tree"
fi
grep -v 'cannot link ASan' replay.err >&2 || true
echo "replayed every corpus file"
