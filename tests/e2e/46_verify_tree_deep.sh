# cdp-verify --tree takes names and stats from its scan of DIR (the
# thread that hashes the files, cdp_treehash.h) where the scan has them,
# and lists and stats a directory itself where not: below the scan's
# depth limit of 256 directories.  Every kind of difference is found on
# both sides of that limit, and a tree equal to the journal passes.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

deep=a
for i in $(seq 2 260); do
	deep=$deep/a
done
mkdir -p "src/$deep"
for d in src "src/$deep"; do
	printf one >"$d/c"
	printf two >"$d/g"
	printf three >"$d/h"
	printf four >"$d/f"
	ln "$d/f" "$d/f2"
	ln -s f "$d/l"
	mkdir "$d/sub"
	printf x >"$d/gone"
done
"$CDP_ROOT/tests/helpers/mkbaseline" src j.cdpj
mkdir t
cp -a src/. t/
+ cdp-verify -q --tree t j.cdpj

for d in t "t/$deep"; do
	printf onE >"$d/c"			# content
	chmod 600 "$d/g"			# mode
	printf threE! >"$d/h"			# size
	rm "$d/f2" && printf four >"$d/f2"	# hard link
	ln -sf g "$d/l"				# symlink target
	rmdir "$d/sub" && printf x >"$d/sub"	# type
	printf x >"$d/new"			# only in the tree
	rm "$d/gone"				# only in the journal
done
# The deep directory's path is shortened to DEEP; the summary line has
# the times the journal was written at.
expect_status 1 cdp-verify --tree t j.cdpj >out
grep -v ': intact: ' out | sed "s|$deep|DEEP|g"
