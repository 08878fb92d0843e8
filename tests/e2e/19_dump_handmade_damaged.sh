# Damaged copies of journals written by the independent writer
# (tests/e2e/data/handmade.py, made from cdp-journal(5) alone; the copies
# are the fuzzing seed corpus, see scripts/fuzz.sh seed): each is rejected
# with a precise message naming the byte offset, and exit status 1; the
# undamaged ones dump with exit 0 and nothing on stderr.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

corpus=$CDP_ROOT/tests/fuzz/corpus
for f in "$corpus"/*; do
	name=$(basename "$f")
	rc=0
	cdp-dump "$f" >/dev/null 2>err || rc=$?
	case $name in
	0[1-3]-*|11-*|17-*|18-*) want=0 ;;
	*) want=1 ;;
	esac
	[ "$rc" -eq "$want" ] || die "$name: exit status $rc, want $want"
	if [ "$want" -eq 0 ]; then
		[ ! -s err ] || die "$name: unexpected stderr: $(cat err)"
	fi
	# The messages, with the checkout's path taken out.
	sed "s|$corpus/||" err
done
