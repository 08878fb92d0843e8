# The S3 client (libcommon/cdp_s3*.c) against a server that lies: a fake
# S3 endpoint (Python, on 127.0.0.1) answers each bucket with a different
# kind of nonsense.  Every case must end in a clear message and exit 1,
# never a crash, a hang or an endless loop; failures worth retrying are
# retried, and others are not.
set -eu
. "$CDP_ROOT/tests/e2e/lib.sh"

s3ctl()
{
	"$CDP_ROOT/tests/helpers/s3ctl" "$@"
}

cat >fake_s3.py <<'EOF'
import http.server, sys

LIST = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>%s'
        '</ListBucketResult>')

def contents(key, size):
    return "<Contents><Key>%s</Key><Size>%s</Size></Contents>" % (key, size)

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if not any(k.lower() == "content-length" for k, v in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 20)))

    def do_GET(self):
        path, _, query = self.path.partition("?")
        bucket = path.split("/")[1]
        if bucket == "loop":
            # More to come, the same token, nothing in it: forever.
            self.reply(200, LIST % "<IsTruncated>true</IsTruncated>"
                       "<NextContinuationToken>t</NextContinuationToken>")
        elif bucket == "entity":
            self.reply(200, LIST % contents("p/a&bogus;b", 1))
        elif bucket == "nul":
            self.reply(200, LIST % contents("p/a&#0;b", 1))
        elif bucket == "size":
            self.reply(200, LIST % contents("p/a", "12x"))
        elif bucket == "bigsize":
            self.reply(200, LIST % contents("p/a", "99999999999999999999999"))
        elif bucket == "outside":
            self.reply(200, LIST % contents("elsewhere/a", 1))
        elif bucket == "order":
            self.reply(200, LIST % (contents("p/b", 1) + contents("p/a", 1)))
        elif bucket == "notoken":
            self.reply(200, LIST % (contents("p/a", 1) +
                                    "<IsTruncated>true</IsTruncated>"))
        elif bucket == "unfinished":
            self.reply(200, LIST % "<Contents><Key>p/a</Key><Size>1</Size>")
        elif bucket == "garbage":
            self.reply(200, bytes(range(256)) * 4)
        elif bucket == "code":
            self.reply(400, "<Error><Code>&lt;script&gt;</Code></Error>")
        elif bucket == "slowdown":
            self.reply(503, "<Error><Code>SlowDown</Code></Error>")
        elif bucket == "short":
            # Promises a lot, sends a little, hangs up.
            self.send_response(200)
            self.send_header("Content-Length", str(10 ** 15))
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
        elif bucket == "range":
            self.reply(206, "0123456789",
                       [("Content-Range", "bytes 0-9/100")])
        elif bucket == "redirect":
            self.reply(301, "<Error><Code>PermanentRedirect</Code></Error>",
                       [("Location", "http://127.0.0.1:1/")])
        else:
            self.reply(404, "<Error><Code>NoSuchBucket</Code></Error>")

    def do_HEAD(self):
        self.reply(404)

    def do_PUT(self):
        self.body()
        bucket = self.path.split("/")[1]
        if bucket == "noetag":
            self.reply(200)
        else:
            self.reply(200, headers=[("ETag", '"e"')])

    def do_POST(self):
        self.body()
        if self.path.endswith("?uploads="):
            self.reply(200, "<InitiateMultipartUploadResult><UploadId>u&amp;1"
                       "</UploadId></InitiateMultipartUploadResult>")
        else:
            # A 200 that says it failed, as S3 may answer.
            self.reply(200, "<Error><Code>InternalError</Code></Error>")

    def do_DELETE(self):
        print("DELETE " + self.path, flush=True)
        self.reply(204)

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF

python3 fake_s3.py >fake.out 2>fake.err &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	[ -s fake.out ] && break
	sleep 0.05
done
port=$(head -n 1 fake.out)
[ -n "$port" ] || die "the fake server did not start: $(cat fake.err)"
export AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=AK
export AWS_SECRET_ACCESS_KEY=SK AWS_REGION=us-east-1

for b in loop entity nul size bigsize outside order notoken unfinished \
    garbage code redirect; do
	expect_status 1 s3ctl ls s3://$b/p
done
# Retried, then given up.
expect_status 1 s3ctl -t 3 ls s3://slowdown/p
expect_status 1 s3ctl -t 2 get s3://short/p x
expect_status 1 s3ctl get s3://range/p x 5 5
# Multipart: a part without an ETag; a completion that failed in a 200.
# Both abort the upload.
head -c $((17 * 1024 * 1024)) /dev/zero >big
expect_status 1 s3ctl put s3://noetag/p x big
expect_status 1 s3ctl put s3://multipart/p x big
sleep 0.2
grep DELETE fake.out >&2
