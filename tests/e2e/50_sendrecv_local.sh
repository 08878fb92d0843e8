# cdp-send to a local store: the store holds the journal's records, the
# status files say so, --apply keeps a replica equal to the source tree,
# --compress shrinks what is stored, and DEST - passes the journal through.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

mkdir tree replica
+ mkload -n 3000 -s 3000 -f 5 -C tree load.cdpj

# From a file, with status files.  5 CREATEs and 3000 WRITEs: seq 3005.
+ cdp-send --status st.json --prom st.prom -i load.cdpj store
same_records load.cdpj store
[ "$(status_field st.json seq_acked)" = 3005 ] || die "status: $(cat st.json)"
[ "$(status_field st.json seq_sent)" = 3005 ] || die "status: $(cat st.json)"
[ "$(status_field st.json connected)" = false ] || die "status: $(cat st.json)"
grep -q '^cdp_send_seq_acked{stream="[0-9a-f-]*"} 3005$' st.prom ||
    die "prom: $(cat st.prom)"
grep -q '^cdp_send_durable_latency_seconds_count{stream="[0-9a-f-]*"} 3005$' \
    st.prom || die "prom: $(cat st.prom)"
grep -qx 'durable_seq 3005' store/state || die "state: $(cat store/state)"
grep -qx 'ended 1' store/state || die "state: $(cat store/state)"
grep -q '^last_time_ns [1-9][0-9]*$' store/state || die "state: $(cat store/state)"
[ ! -e st.json.tmp ] || die "st.json.tmp left behind"

# The same journal again: the receiver has it all, nothing changes.
cp store/00000000000000000001.cdpj before.cdpj
+ cdp-send -i load.cdpj store
cmp before.cdpj store/00000000000000000001.cdpj

# From standard input, compressed, small segments, applied to a replica.
+ cdp-send --compress --recv-path "cdp-recv --apply replica --segment-size 1M" \
    store2 <load.cdpj
compare_trees tree replica
n=$(find store2 -name '*.cdpj' | wc -l)
[ "$n" -ge 3 ] || die "want several segments, got $n"
[ "$(records store2 | wc -l)" = 3006 ] || die "store2: wrong record count"

# Compressible text: the store is much smaller than the journal.
+ mkload -t -n 500 text.cdpj
+ cdp-send --compress=9 -i text.cdpj ztore
big=$(stat -c %s text.cdpj)
small=$(cat ztore/*.cdpj | wc -c)
[ $((small * 4)) -lt "$big" ] || die "compressed store: $small of $big bytes"

# DEST -: the journal itself on standard output.
+ cdp-send -i load.cdpj - >copy.cdpj
cmp load.cdpj copy.cdpj
+ cdp-send --compress -i text.cdpj - >ztext.cdpj
[ "$(stat -c %s ztext.cdpj)" -lt "$big" ] || die "DEST - did not compress"
same_records load.cdpj copy.cdpj

# --follow: what is there is delivered, and cdp-send stays for more.
mkload -o -n 100 -s 100 grow.cdpj
cdp-send -i grow.cdpj --follow --status fst.json fstore &
pid=$!
at_exit "kill $pid 2>/dev/null || true"
all_acked() { [ "$(status_field fst.json seq_acked)" = 108 ]; }
wait_until 20 all_acked
sleep 0.3
kill -0 "$pid" || die "cdp-send --follow ended"
kill "$pid"
wait "$pid" 2>/dev/null || true
same_records grow.cdpj fstore
