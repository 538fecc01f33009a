#!/bin/sh
# Integration: REST API, health endpoints, security headers, web files and the CLI, with curl.
# Usage: it_rest.sh path/to/overleg
set -eu
BIN=$1
DIR=$(mktemp -d /tmp/ovl-rest-XXXXXX)
KEY=rest-test-api-key-0123456789
PID=
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    echo "--- server log:" >&2
    cat "$DIR/server.log" >&2 || true
    exit 1
}

export OVERLEG_LISTEN=127.0.0.1:0 OVERLEG_DATA_DIR="$DIR/data" OVERLEG_API_KEY=$KEY OVERLEG_PUBLIC_HOST=127.0.0.1
export OVERLEG_MEDIA_PORT_BASE=0 OVERLEG_MEDIA_WORKERS=1 # kernel-picked UDP ports: suites run side by side

# --- CLI without a server ------------------------------------------------------------------
"$BIN" --version | grep -q '^overleg ' || fail "--version"
"$BIN" help | grep -q 'overleg meeting create' || fail "help"
set +e
OVERLEG_MAX_PARTICIPANTS=lots "$BIN" serve >/dev/null 2>"$DIR/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "a bad config value must exit 2 (got $rc)"
[ "$(wc -l <"$DIR/err")" -eq 1 ] || fail "a config error is one line: $(cat "$DIR/err")"
grep -q 'max_participants' "$DIR/err" || fail "the config error names the key: $(cat "$DIR/err")"

OUT=$("$BIN" meeting create --title "Kabinet" --expires 2h --lobby --json)
echo "$OUT" | grep -q '"host_link": "https://127.0.0.1:' || fail "create --json has host_link: $OUT"
echo "$OUT" | grep -q '"guest_link": "https://127.0.0.1:' || fail "create --json has guest_link"
echo "$OUT" | grep -q '"lobby": true' || fail "create --lobby"
CLI_ID=$(echo "$OUT" | sed -n 's/.*"id": "\([A-Za-z0-9_-]*\)".*/\1/p')
[ ${#CLI_ID} -eq 22 ] || fail "meeting id is 22 characters: $CLI_ID"
"$BIN" meeting list | grep -q -- "$CLI_ID  active" || fail "list shows the meeting"
[ "$(stat -c %a "$DIR/data")" = 700 ] || fail "data dir must be 0700"
[ "$(stat -c %a "$DIR/data/secret.key")" = 600 ] || fail "secret must be 0600"

# --- server --------------------------------------------------------------------------------
"$BIN" serve >"$DIR/stdout" 2>"$DIR/server.log" &
PID=$!
for _ in $(seq 1 300); do
    grep -q 'listening on port' "$DIR/stdout" 2>/dev/null && break
    sleep 0.1
done
PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$DIR/stdout")
[ -n "$PORT" ] || fail "server did not start"
grep -q 'Host link:  https://127.0.0.1:'"$PORT"'/m/' "$DIR/stdout" || fail "serve prints a demo link"
[ "$(stat -c %a "$DIR/data/tls-key.pem")" = 600 ] || fail "TLS key must be 0600"
openssl x509 -in "$DIR/data/tls-cert.pem" -noout -text | grep -q 'IP Address:127.0.0.1' || fail "SAN has 127.0.0.1"
openssl x509 -in "$DIR/data/tls-cert.pem" -noout -text | grep -q 'ASN1 OID: prime256v1' || fail "ECDSA P-256"
U=https://127.0.0.1:$PORT
C="curl -sk --max-time 20"

code() { $C -o /dev/null -w '%{http_code}' "$@"; }

[ "$(code "$U/healthz")" = 200 ] || fail healthz
[ "$(code "$U/readyz")" = 200 ] || fail readyz
$C "$U/metrics" | grep -q '^overleg_participants 0' || fail "metrics"
$C "$U/metrics" | grep -q '^# TYPE overleg_errors_total counter' || fail "metrics types"
$C "$U/metrics" | grep -q '^overleg_media_workers 1' || fail "metrics: media workers"
$C "$U/metrics" | grep -q '^overleg_media_transports{worker="0"} 0' || fail "metrics: media transports"
$C "$U/metrics" | grep -q '^overleg_media_dropped_total{worker="0",reason="transport-stun-auth"} 0' ||
    fail "metrics: media drops by reason"

H=$($C -D - -o /dev/null "$U/m/$CLI_ID")
for h in "strict-transport-security: max-age" "content-security-policy: default-src 'self'; connect-src 'self' wss:" \
    "x-content-type-options: nosniff" "referrer-policy: no-referrer" "content-type: text/html"; do
    echo "$H" | grep -qi "^$h" || fail "header $h missing on /m/ID"
done
$C -D - -o /dev/null "$U/static/app.js" | grep -qi '^content-type: text/javascript' || fail "js type"
$C -D - -o /dev/null "$U/static/style.css" | grep -qi '^content-type: text/css' || fail "css type"
$C -D - -o /dev/null "$U/nope" | grep -qi '^content-security-policy:' || fail "headers on a 404 too"
[ "$(code --path-as-is "$U/static/../data/secret.key")" = 404 ] || fail "path traversal"
[ "$(code --path-as-is "$U/static/%2e%2e/secret.key")" = 404 ] || fail "encoded path traversal"
[ "$(code "$U/m/a/b")" = 404 ] || fail "/m/a/b"

# The web client's files: gzipped when accepted, byte for byte the same once gunzipped,
# revalidated by ETag (304, no body), never gzipped for a client that refuses it.
WEB=$(cd "$(dirname "$0")/../../signaling/web" && pwd)
for f in index.html $(cd "$WEB" && find static -type f); do
    url=$U/$f
    [ "$f" = index.html ] && url=$U/m/$CLI_ID
    $C --compressed -o "$DIR/got" "$url"
    cmp -s "$DIR/got" "$WEB/$f" || fail "/$f served with gzip differs from signaling/web/$f"
done
H=$($C -H 'Accept-Encoding: gzip' -D - -o "$DIR/app.gz" "$U/static/app.js")
echo "$H" | grep -qi '^content-encoding: gzip' || fail "app.js not gzipped: $H"
echo "$H" | grep -qi '^vary: accept-encoding' || fail "no vary on a gzipped file"
echo "$H" | grep -qi '^cache-control: no-cache' || fail "static files revalidate: $H"
[ "$(wc -c <"$DIR/app.gz")" -lt "$(($(wc -c <"$WEB/static/app.js") / 2))" ] || fail "app.js gzip not under half"
for ae in 'gzip;q=0' 'identity' 'br'; do
    H=$($C -H "Accept-Encoding: $ae" -D - -o "$DIR/got" "$U/static/app.js")
    ! echo "$H" | grep -qi '^content-encoding' || fail "gzipped though Accept-Encoding: $ae"
    cmp -s "$DIR/got" "$WEB/static/app.js" || fail "plain app.js differs (Accept-Encoding: $ae)"
done
ETAG=$($C -D - -o /dev/null "$U/static/app.js" | tr -d '\r' | sed -n 's/^etag: //Ip')
[ -n "$ETAG" ] || fail "no etag"
[ "$(code -H "If-None-Match: $ETAG" "$U/static/app.js")" = 304 ] || fail "If-None-Match with the etag -> 304"
[ "$(code -H 'If-None-Match: "0000000000000000"' "$U/static/app.js")" = 200 ] || fail "a stale etag -> 200"
$C -D - -o /dev/null "$U/healthz" | grep -qi '^cache-control: no-store' || fail "other responses are not stored"
L=$(curl -s --max-time 20 -D - -o /dev/null "http://127.0.0.1:$PORT/m/x")
echo "$L" | grep -q '^HTTP/1.1 308' || fail "plain http redirects: $L"
echo "$L" | grep -qi "^location: https://127.0.0.1:$PORT/m/x" || fail "redirect location: $L"

# REST API
[ "$(code -X POST -d '{"title":"x"}' "$U/api/meetings")" = 401 ] || fail "no key -> 401"
[ "$(code -X POST -H 'Authorization: Bearer wrong-key-0123456789' -d '{"title":"x"}' "$U/api/meetings")" = 401 ] ||
    fail "wrong key -> 401"
A="Authorization: Bearer $KEY"
[ "$(code -X POST -H "$A" -d 'nonsense' "$U/api/meetings")" = 400 ] || fail "bad body -> 400"
[ "$(code -X POST -H "$A" -d '{"title":""}' "$U/api/meetings")" = 400 ] || fail "empty title -> 400"
R=$($C -X POST -H "$A" -H 'Content-Type: application/json' \
    -d '{"title":"Crisis meeting","expires":"7d","lobby":false,"host_name":"Minister"}' -w '\n%{http_code}' \
    "$U/api/meetings")
echo "$R" | tail -1 | grep -q 201 || fail "create -> 201: $R"
echo "$R" | grep -q "\"host_link\":\"https://127.0.0.1:$PORT/m/" || fail "create returns host_link: $R"
echo "$R" | grep -q '"guest_link":"https://' || fail "create returns guest_link"
ID=$(echo "$R" | sed -n 's/.*"id":"\([A-Za-z0-9_-]*\)".*/\1/p')
[ ${#ID} -eq 22 ] || fail "REST id: $ID"
$C -H "$A" "$U/api/meetings" | grep -q "\"id\":\"$ID\"" || fail "list has it"
$C -H "$A" "$U/api/meetings/$ID" | grep -q '"host_link"' || fail "get one has links"
[ "$(code -X DELETE -H "$A" "$U/api/meetings/$ID")" = 200 ] || fail "delete -> 200"
$C -H "$A" "$U/api/meetings/$ID" | grep -q '"revoked":true' || fail "revoked after delete"
[ "$(code -X DELETE -H "$A" "$U/api/meetings/AAAAAAAAAAAAAAAAAAAAAA")" = 404 ] || fail "unknown -> 404"
"$BIN" meeting list | grep -q -- "$ID  revoked" || fail "CLI sees the REST revocation"
"$BIN" meeting revoke "$CLI_ID" >/dev/null || fail "CLI revoke while serving"
set +e
"$BIN" meeting revoke AAAAAAAAAAAAAAAAAAAAAA >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 1 ] || fail "revoking an unknown meeting exits 1"
$C "$U/metrics" | grep -q '^overleg_meetings_created_total 1' || fail "metrics count REST creations"

# No secret or token in the log.
SECRET_HEX=$(od -An -tx1 "$DIR/data/secret.key" | tr -d ' \n')
TOKEN=$(echo "$R" | sed -n 's/.*#t=\([A-Za-z0-9_-]*\)".*/\1/p' | head -1)
! grep -q "$TOKEN" "$DIR/server.log" || fail "a token reached the log"
! grep -q "$KEY" "$DIR/server.log" || fail "the API key reached the log"
! grep -qi "$SECRET_HEX" "$DIR/server.log" || fail "the secret reached the log"

kill -TERM "$PID"
wait "$PID" || fail "exit status after SIGTERM"
PID=
echo "it_rest: all checks passed"
