# cdp-verify --tree reads the journal once: the integrity check builds the
# model as it goes, and DIR is hashed meanwhile.  A journal read through
# /dev/stdin from a pipe can be read only once (reopening it finds the
# pipe empty), so these pass only if it is: the end, --at-seq, --at NAME@N,
# and --at NAME where the name repeats with nothing changed in between
# (the stop moves on to the last).  Where the tree changed between two
# marks of one name, the last is still the one compared: the journal, a
# file, is read again.  Contents are compared by chunk sums, taken from
# the journal where a record holds a whole chunk, read again where not.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

"$CDP_ROOT/tests/helpers/mkhostile" j.cdpj <<'J'
hdr
mkdir 755 d
create 644 d/f
write 0 d/f one
mark m
fsync 0 d/f
heartbeat
mark m
create 644 d/big
write 0 d/big @200000:a
create 644 d/pieces
write 0 d/pieces @1000:b
write 1000 d/pieces @150000:c
mark n
write 0 d/f TWO
mark n
end
J
for at in m n@1 n; do
	mkdir "t.$at"
	cdp-replay -C "t.$at" --until-mark "$at" j.cdpj
done
mkdir t
cdp-replay -C t j.cdpj

once()
{
	echo "+ ... | $*" >&2
	cat j.cdpj | "$@" /dev/stdin
}
once cdp-verify -q --tree t
once cdp-verify -q --tree t.m --at m
once cdp-verify -q --tree t.n@1 --at n@1
once cdp-verify -q --tree t.m --at-seq 5
+ cdp-verify -q --tree t --at n j.cdpj
expect_status 1 cdp-verify -q --tree t.n@1 --at n j.cdpj
expect_status 1 cdp-verify -q --tree t.m --at n j.cdpj

# One byte changed in a chunk of each kind: a whole chunk of a record,
# the partial last chunk, a chunk made of two records.
printf 'x' | dd of=t/d/big bs=1 seek=70000 conv=notrunc status=none
printf 'x' | dd of=t/d/pieces bs=1 seek=150500 conv=notrunc status=none
expect_status 1 cdp-verify --tree t j.cdpj
cdp-replay -C t j.cdpj
printf 'x' | dd of=t/d/big bs=1 seek=199999 conv=notrunc status=none
printf 'x' | dd of=t/d/pieces bs=1 seek=999 conv=notrunc status=none
expect_status 1 cdp-verify --tree t j.cdpj
