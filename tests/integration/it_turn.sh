#!/bin/sh
# Integration: TURN over TLS on the HTTPS port (RFC 8656) through the real server. A client (Python's
# ssl, no ALPN, like Chromium's TURN/TLS) allocates with REST credentials (coturn's use-auth-secret:
# username "expiry:who", password base64(HMAC-SHA1(secret, username))); a permission towards an
# address that is not the relay's is refused with 403 (RFC 8656 §10.2: no open relay), one towards
# the relay's media address (public_ip + worker UDP port) is granted; HTTPS still works on the port.
# A Send indication to the relay's media address goes straight into the worker that owns the port
# (no UDP socket: the worker's UDP counters stay at 0), and /metrics counts all of it.
# Usage: it_turn.sh path/to/overleg
set -eu
BIN=$1
DIR=$(mktemp -d /tmp/ovl-turn-XXXXXX)
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

export OVERLEG_LISTEN=127.0.0.1:0 OVERLEG_DATA_DIR="$DIR/data" OVERLEG_PUBLIC_HOST=127.0.0.1
export OVERLEG_MEDIA_PORT_BASE=0 OVERLEG_MEDIA_WORKERS=1 OVERLEG_PUBLIC_IP=127.0.0.1
export OVERLEG_TURN_SECRET=it-turn-secret-0123456789

"$BIN" serve >"$DIR/out" 2>"$DIR/server.log" &
PID=$!
i=0
while ! grep -q 'media on UDP ports' "$DIR/out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 200 ] || fail "the server did not start"
    sleep 0.1
done
PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$DIR/out")
UDP=$(sed -n 's/.*media on UDP ports \([0-9]*\).*/\1/p' "$DIR/out")
[ -n "$PORT" ] && [ -n "$UDP" ] || fail "ports from: $(cat "$DIR/out")"

curl -sk "https://127.0.0.1:$PORT/healthz" >/dev/null || fail "HTTPS on the same port"

python3 - "$PORT" "$UDP" "$OVERLEG_TURN_SECRET" <<'PY' || fail "TURN client"
import base64, hashlib, hmac, os, socket, ssl, struct, sys, time

port, udp, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
COOKIE = 0x2112A442

def attr(t, v):
    return struct.pack('!HH', t, len(v)) + v + b'\0' * (-len(v) % 4)

def msg(mtype, attrs, key=None):
    tid = os.urandom(12)
    body = b''.join(attrs)
    if key is not None:  # RFC 8489 §14.5: MESSAGE-INTEGRITY over the message, length including it
        head = struct.pack('!HHI', mtype, len(body) + 24, COOKIE) + tid
        body += attr(0x0008, hmac.new(key, head + body, hashlib.sha1).digest())
    return struct.pack('!HHI', mtype, len(body), COOKIE) + tid + body

def xor_addr(ip, p):  # RFC 8489 §14.2, IPv4
    raw = struct.unpack('!I', socket.inet_aton(ip))[0] ^ COOKIE
    return struct.pack('!BBHI', 0, 1, p ^ (COOKIE >> 16), raw)

def read(s):
    h = b''
    while len(h) < 20:
        h += s.recv(20 - len(h))
    mtype, ln = struct.unpack('!HH', h[:4])
    b = b''
    while len(b) < ln:
        b += s.recv(ln - len(b))
    attrs, i = {}, 0
    while i + 4 <= ln:
        t, l = struct.unpack('!HH', b[i:i + 4])
        attrs[t] = b[i + 4:i + 4 + l]
        i += 4 + l + (-l % 4)
    return mtype, attrs

def code(attrs):
    e = attrs.get(0x0009)
    return e[2] * 100 + e[3] if e else 0

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='127.0.0.1')
s.settimeout(10)

transport = attr(0x0019, bytes([17, 0, 0, 0]))
s.sendall(msg(0x0003, [transport]))
t, a = read(s)
assert t == 0x0113 and code(a) == 401, ('Allocate without credentials: 401', hex(t), code(a))
realm, nonce = a[0x0014], a[0x0015]

user = ('%d:it' % (int(time.time()) + 600)).encode()
password = base64.b64encode(hmac.new(secret, user, hashlib.sha1).digest())
key = hashlib.md5(user + b':' + realm + b':' + password).digest()
auth = [attr(0x0006, user), attr(0x0014, realm), attr(0x0015, nonce)]
s.sendall(msg(0x0003, [transport] + auth, key))
t, a = read(s)
assert t == 0x0103 and 0x0016 in a, ('Allocate with REST credentials succeeds', hex(t), code(a))

s.sendall(msg(0x0008, [attr(0x0012, xor_addr('192.0.2.1', 5000))] + auth, key))
t, a = read(s)
assert t == 0x0118 and code(a) == 403, ('a permission to a non-relay address: 403', hex(t), code(a))

s.sendall(msg(0x0008, [attr(0x0012, xor_addr('127.0.0.1', udp))] + auth, key))
t, a = read(s)
assert t == 0x0108, ('a permission to the relay media address is granted', hex(t), code(a))

# RFC 8656 §11.2: a Send indication (no answer); the worker takes it from the relayed address.
s.sendall(msg(0x0016, [attr(0x0012, xor_addr('127.0.0.1', udp)), attr(0x0013, b'\x80' * 100)]))

def metrics():
    import urllib.request
    ctx2 = ssl.create_default_context()
    ctx2.check_hostname = False
    ctx2.verify_mode = ssl.CERT_NONE
    text = urllib.request.urlopen('https://127.0.0.1:%d/metrics' % port, context=ctx2, timeout=10).read().decode()
    return {l.rsplit(' ', 1)[0]: float(l.rsplit(' ', 1)[1]) for l in text.splitlines() if l and l[0] != '#'}

want = {
    'overleg_turn_allocations': 1, 'overleg_turn_allocations_total': 1, 'overleg_turn_sessions': 1,
    'overleg_turn_refused_total{code="401"}': 1, 'overleg_turn_refused_total{code="403"}': 1,
    'overleg_turn_permissions_total': 1,
    'overleg_turn_relayed_packets_total{direction="to_relay"}': 1,
    'overleg_turn_relayed_bytes_total{direction="to_relay"}': 100,
    'overleg_media_turn_received_packets_total{worker="0"}': 1,
    'overleg_media_turn_received_bytes_total{worker="0"}': 100,
    'overleg_media_udp_received_packets_total{worker="0"}': 0,
}
for _ in range(50):  # the worker publishes its counters every 200 ms
    m = metrics()
    if all(m.get(k) == v for k, v in want.items()):
        break
    time.sleep(0.1)
bad = {k: (m.get(k), v) for k, v in want.items() if m.get(k) != v}
assert not bad, ('/metrics (got, want)', bad)
print('turn ok')
PY
kill -TERM "$PID"
wait "$PID" || fail "the server exits 0 on SIGTERM"
PID=
echo "ok"
