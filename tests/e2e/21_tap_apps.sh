# Applications under cdp-tap: git init/add/commit, sqlite3 with many
# transactions (a rollback journal created, written, synced and removed
# each time), python3 writing through a shared mmap.  The replayed tree
# equals the real one, and the database still opens and counts right.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
mkdir w
+ cdp-tap -C w -o j.cdpj -- sh -c '
	git init -q repo && cd repo &&
	seq 1 1000 >numbers && echo hello >hello &&
	git add . && git -c user.name=t -c user.email=t@t commit -qm one &&
	echo more >>hello && git -c user.name=t -c user.email=t@t commit -qam two &&
	cd .. &&
	sqlite3 db.sqlite "create table t(a integer, b blob);" &&
	i=0; while [ $i -lt 200 ]; do
		echo "begin; insert into t values($i, randomblob(700)); commit;"
		i=$((i + 1))
	done | sqlite3 db.sqlite &&
	python3 -c "
import mmap
with open(\"py.bin\", \"wb\") as f:
    f.write(bytes(20000))
with open(\"py.bin\", \"r+b\") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[100:105] = b\"hello\"
    m.flush()
    m[15000:15003] = b\"abc\"
    m.close()
"'
mkdir replay
+ cdp-replay -C replay j.cdpj
compare_trees w replay
[ "$(sqlite3 replay/db.sqlite 'select count(*) from t')" = 200 ] ||
    die "the replayed database does not hold 200 rows"
git -C replay/repo log --oneline | wc -l | grep -qx 2 ||
    die "the replayed repository does not hold 2 commits"
