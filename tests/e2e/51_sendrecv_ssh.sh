# cdp-send over ssh (a throwaway sshd): the store holds the journal's
# records, and a replica kept by the remote cdp-recv --apply equals the
# source tree.  A store path with a blank and a quote survives the remote
# shell, and user@host works.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

start_sshd
mkdir tree replica
+ mkload -n 2000 -s 4000 -f 3 -C tree load.cdpj

echo "+ cdp-send --recv-path 'cdp-recv --apply replica' 127.0.0.1:store" >&2
cdp-send -e "$CDP_SSH" --recv-path "cdp-recv --apply $PWD/replica" \
    -i load.cdpj "127.0.0.1:$PWD/store" 2>send.err ||
    die "cdp-send failed: $(cat send.err)"
[ ! -s send.err ] || die "unexpected messages: $(cat send.err)"
same_records load.cdpj store
compare_trees tree replica

odd="$PWD/my store's"
echo "+ cdp-send root@127.0.0.1:\"my store's\"" >&2
cdp-send -e "$CDP_SSH" -i load.cdpj "root@127.0.0.1:$odd" 2>send.err ||
    die "cdp-send failed: $(cat send.err)"
same_records load.cdpj "$odd"
