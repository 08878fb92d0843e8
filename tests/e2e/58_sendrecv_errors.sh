# Mistakes get a clear message and the documented exit status: 2 for a
# bad operand or option, 1 when the receiver cannot be reached or started.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"
. "$CDP_ROOT/tests/e2e/sendrecv_lib.sh"

+ mkload -n 10 -s 100 load.cdpj
expect_status 2 cdp-send -i load.cdpj ':store'
expect_status 2 cdp-send -i load.cdpj 'host:'
expect_status 2 cdp-send -i load.cdpj
expect_status 2 cdp-send -i load.cdpj --spool-size 0 store
expect_status 2 cdp-send --follow store <load.cdpj
expect_status 2 cdp-send --sync -i load.cdpj -
expect_status 2 cdp-recv
expect_status 2 cdp-recv --segment-size 12q store <load.cdpj

# Nothing listens on the port: ssh fails, and cdp-send says so.
port=$(free_port)
expect_status 1 cdp-send -e "ssh -F none -p $port -o BatchMode=yes -o LogLevel=QUIET" \
    -i load.cdpj "127.0.0.1:$PWD/store"
# No such remote shell.
expect_status 1 cdp-send -e ./no-such-ssh -i load.cdpj "127.0.0.1:$PWD/store"
# No such receiver program.
expect_status 1 cdp-send --recv-path ./no-such-recv -i load.cdpj store
[ ! -e store ] || die "a store was made"
# A journal that is not one.
printf 'this is not a journal\n' >bad.cdpj
expect_status 1 cdp-send -i bad.cdpj store
