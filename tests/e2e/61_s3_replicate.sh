# A tapped workload replicated into a bucket (s3://) through cdp-send and
# cdp-recv, with small segments so that many are sealed and uploaded:
# cdp-replay and cdp-verify read the bucket straight, and the tree
# replayed from it (now and at a mark) equals the source.  The stage
# holds nothing afterwards; the manifest names every segment once.  The
# same journal also goes through ssh to a receiver on "another host"
# (host:s3://BUCKET/PREFIX), into another prefix of the same bucket.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

start_ceph
+ s3ctl mb s3://cdp61
B=s3://cdp61/app

mktree w
head -c 3000000 /dev/urandom >w/big.bin
mkdir at-mark
cdp-tap --baseline -C w -o tap.cdpj -- sh -c '
	for i in $(seq 1 200); do
		head -c 20000 /dev/urandom >"f$i.bin"
	done
	cp -a a a-copy
	cdp-mark half
	cp -a . ../at-mark/ 2>/dev/null || true
	rm -r a-copy
	for i in $(seq 1 50); do echo "line $i" >>log.txt; done
	mv f1.bin renamed.bin'

+ cdp-send -i tap.cdpj --recv-path \
    "cdp-recv --stage $PWD/stage --seal-after 256K --status $PWD/recv.json" "$B"
[ "$(status_field recv.json upload_backlog_bytes)" = 0 ] ||
    die "backlog left: $(cat recv.json)"
ls stage/*.cdpj >/dev/null 2>&1 && [ "$(ls stage/*.cdpj | wc -l)" -le 1 ] ||
    die "the stage keeps more than its last segment: $(ls stage)"
s3ctl get "$B" manifest >manifest.txt
n=$(grep -c '^segment ' manifest.txt)
[ "$n" -ge 5 ] || die "only $n segments uploaded (want several)"
[ "$(awk '/^segment/ { print $2 }' manifest.txt | sort -u | wc -l)" -eq "$n" ] ||
    die "a segment named twice in the manifest"

+ cdp-verify -q "$B"
same_records tap.cdpj "$B"
mkdir now half
+ cdp-replay -C now "$B"
compare_trees w now
+ cdp-replay -C half --until-mark half "$B"
compare_trees at-mark half
+ cdp-replay --list-marks "$B" | awk '{ print $NF }'

# host:s3://...: the receiver runs through ssh; the credentials are the
# receiving side's (given here on its command line, for the test only).
start_sshd >/dev/null
env="env AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
cdp-send -e "$CDP_SSH" -i tap.cdpj --recv-path \
    "$env $CDP_ROOT/cdp-recv --stage $PWD/stage2" 127.0.0.1:s3://cdp61/via-ssh 2>ssh.err ||
    die "cdp-send over ssh: $(cat ssh.err)"
same_records tap.cdpj s3://cdp61/via-ssh
