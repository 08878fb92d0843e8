# Writers that race: threads and processes hammering overlapping blocks of
# one file, processes appending to one file, writes through a shared
# mapping, stdio streams (flushed by fflush, fseek, fclose and exit), and
# the less common calls (writev, pwritev2, fallocate, copy_file_range,
# sendfile, O_TMPFILE + linkat, xattrs, mkfifo, dup2, close_range,
# utimensat, RENAME_EXCHANGE).  The journal has them in the order they
# took effect: the replayed files are the real ones, byte for byte.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mkdir w replay
+ cdp-tap -C w -o j.cdpj -- sh -c '
	T="$CDP_ROOT"/tests/helpers/tapwriter
	$T threads th.bin 4 400 && $T fork fk.bin 4 400 &&
	$T append ap.txt 4 300 && $T mmap mm.bin 300000 &&
	$T stdio st.txt && $T misc .'
+ cdp-replay -C replay j.cdpj
compare_trees --xattr w replay
[ "$(wc -l <w/ap.txt)" -eq 1200 ] || die "ap.txt does not have 1200 lines"
cdp-dump j.cdpj | grep -q ' FSYNC ' || die "no FSYNC record"
