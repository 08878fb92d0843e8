# --baseline: the stream alone rebuilds the tree.  The tree as it was is
# journaled first (between BASELINE_BEGIN and BASELINE_END), then the
# command's changes; replaying into an empty directory gives the final
# tree, hard links, symlinks, empty directories and FIFOs included.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

mktree w
mkfifo w/fifo
head -c 3000000 /dev/urandom >w/big.bin
+ cdp-tap --baseline --compress -C w -o j.cdpj -- sh -c '
	echo new >new.txt && rm a/hello.txt && echo more >>a/hardlink-1'
mkdir replay
+ cdp-replay -C replay j.cdpj
compare_trees w replay
cdp-dump j.cdpj | awk '{ print $3 }' | grep -n BASELINE >markers.txt
[ "$(cut -d: -f2 markers.txt | tr '\n' ' ')" = "BASELINE_BEGIN BASELINE_END " ] ||
    die "want one BASELINE_BEGIN then one BASELINE_END"
