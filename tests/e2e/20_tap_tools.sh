# Real tools under cdp-tap: cp -a, tar -x, rsync -a, dd conv=notrunc, a
# shell renaming, removing, making directories, chmod, truncate, and a
# child that drops to nobody before it writes.  Replaying the journal onto
# the starting tree gives the tree the tools left: contents, modes,
# owners, symlinks, hard links, empty directories.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mktree src
tar cf src.tar -C src .
mkdir w before
chmod 0777 w
printf 'old contents\n' >w/keep.txt
cp -a w/. before/

+ cdp-tap -C w -o j.cdpj -- sh -c '
	cp -a ../src cpa &&
	mkdir tx && tar -xf ../src.tar -C tx &&
	rsync -a ../src/ rs/ &&
	dd if=/dev/zero of=zero.bin bs=4096 count=4 2>/dev/null &&
	printf XYZ | dd of=zero.bin bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	mkdir -p d1/d2 && echo one >d1/f && mv d1/f d1/d2/g &&
	mv d1 d3 && rm -r cpa/empty-dir && rm cpa/a/hello.txt &&
	chmod 0604 keep.txt && truncate -s 4 keep.txt &&
	ln keep.txt keep-link && ln -s keep.txt keep-sym &&
	echo appended >>keep.txt && : >empty && rmdir tx/empty-dir &&
	"$CDP_ROOT"/tests/helpers/tapwriter nobody "echo nobody >nob.txt; mkdir nobdir"'
cp -a before replay
+ cdp-replay -C replay j.cdpj 2>replay.err
compare_trees --owner w replay
[ "$(stat -c %U w/nob.txt)" = nobody ] || die "nob.txt is not nobody's"
