# 60_s3: a store in a bucket, against a throwaway Ceph radosgw on this
# machine (tests/e2e/ceph_lib.sh; memstore, so the objects are in RAM).
#
#  upload     cdp-recv uploading the sealed segments its stage holds
#             (128 MB of 16 MiB segments of 4 KiB random WRITEs; cdp-recv
#             with empty input uploads what the stage holds, one PUT per
#             segment after reading it through the validating reader,
#             then a manifest PUT each; the time of the same cdp-recv
#             with an empty stage, its start-up and exit with the lease,
#             is measured in the same run and taken off) against curl -T
#             of the same segment files, one after the other, to the
#             same radosgw with the same SigV4 signing; goal >= 0.8x.
#  rpo/local, rpo/s3   source write to acknowledged at a steady 10 MB/s of
#             4 KiB WRITEs for 10 s (tests/helpers/mkload -r 10 piped into
#             cdp-send), into a local store and into s3:// with the
#             default local acknowledgement: the two distributions should
#             be the same.  Given as the bucket bound p50 and p99 fall in.
#             The source waits 2 s after its header (mkload -w), so that
#             the receiver has started (for s3://, taking the lease and
#             reading the manifest: about 0.1 s) before the paced writes:
#             this is the steady state, not the first connection.
# Best of 3 runs for the upload.  Output format: see scripts/bench.sh.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/bench/lib.sh"
. "$CDP_ROOT/tests/e2e/ceph_lib.sh"

mkload=$CDP_ROOT/tests/helpers/mkload
s3ctl=$CDP_ROOT/tests/helpers/s3ctl
[ -x "$s3ctl" ] || { echo "60_s3: $s3ctl is not built" >&2; exit 1; }
start_ceph >&2
"$s3ctl" mb s3://bench >/dev/null


# A store of 16 MiB segments, kept as the stage's template.
mb=128
"$mkload" -n $((mb * 1000000 / 4096)) -s 4096 - |
    cdp-recv --segment-size 16M tmpl >/dev/null
bytes=$(cat tmpl/*.cdpj | wc -c)
put() {
	curl -sS -f --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
	    -T "$1" "$AWS_ENDPOINT_URL/bench/$2"
}
ours=() ref=()
for i in 1 2 3; do
	# Start-up and exit alone (lease, manifest), with nothing to upload.
	rm -rf empty && mkdir empty
	t0=$(now); cdp-recv --stage empty "s3://bench/empty$i" </dev/null 2>/dev/null; t1=$(now)
	fixed=$(sub "$t1" "$t0")
	rm -rf stage && cp -a tmpl stage
	t0=$(now); cdp-recv --stage stage "s3://bench/up$i" </dev/null 2>/dev/null; t1=$(now)
	ours+=("$(sub "$(sub "$t1" "$t0")" "$fixed")")
	t0=$(now)
	for f in tmpl/*.cdpj; do put "$f" "curl$i/${f##*/}"; done
	t1=$(now)
	ref+=("$(sub "$t1" "$t0")")
	"$s3ctl" ls "s3://bench/up$i" | grep -q manifest || { echo "60_s3: nothing uploaded" >&2; exit 1; }
done
o=$(best "${ours[@]}") r=$(best "${ref[@]}")
x=$(ratio "$o" "$r")
echo "upload|cdp-recv uploading the sealed segments of its stage ($mb MB, 16 MiB segments; start-up and exit taken off) vs curl -T of the same files to the same radosgw, higher is better|$(rate "$bytes" "$o")|curl PUT: $(rate "$bytes" "$r")|$x|$(goal "${x%x}" 0.8 min)"

# RPO, local store and bucket, the same paced source.
"$mkload" -w 2 -r 10 -n 25000 -s 4096 - | cdp-send --prom local.prom rpo-store
"$mkload" -w 2 -r 10 -n 25000 -s 4096 - |
    cdp-send --prom s3.prom --recv-path "cdp-recv --stage $PWD/rpo-stage" s3://bench/rpo 2>/dev/null
echo "# rpo local store (seconds: cumulative records): $(buckets local.prom | tr '\n' ' ')"
echo "# rpo s3://, local ack (seconds: cumulative records): $(buckets s3.prom | tr '\n' ' ')"
for p in 50 99; do
	l=$(pct local.prom "0.$p") s=$(pct s3.prom "0.$p")
	echo "rpo/p$p|source write to acknowledged, 10 MB/s of 4 KiB WRITEs for 10 s, s3:// (local ack) vs a local store, p$p (bucket bound), lower is better|<= $s ms|local store: <= $l ms|-|$(goal "$s" "$l" max) (same as local)"
done
