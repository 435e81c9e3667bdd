# An independent dRPC peer written from the wire format alone (no Ringside code, no protobuf library):
# SOCK_SEQPACKET, 24-byte native-endian chunk header {size_t total, size_t chunk, u32 idx, u32 chunks},
# packets of at most 1 << 17 bytes, Call {1: module, 2: method, 3: sequence, 4: body} and
# Response {1: sequence, 2: status, 3: body} in protobuf encoding.
#   python3 drpc-peer.py invoke PATH ID METHOD DATA   -> InvokeService (module 10, method 1001) on a
#                                                       Ringside sidecar; prints the answer as JSON
#   python3 drpc-peer.py client PATH MODULE METHOD BODY_HEX_OR_@SIZE   -> two calls; prints JSON of the responses
#   python3 drpc-peer.py server PATH                                   -> serves module 7 until killed
import json, socket, struct, sys

MAX_PACKET = 1 << 17
HDR = struct.Struct('=QQII')  # native byte order, standard sizes: 8 + 8 + 4 + 4 = 24
MAX_DATA = MAX_PACKET - HDR.size

def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]; i += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return n, i

def encode(fields):
    out = bytearray()
    for num, value in fields:
        if isinstance(value, bytes):
            if value:
                out += varint(num << 3 | 2) + varint(len(value)) + value
        elif value:
            out += varint(num << 3) + varint(value)
    return bytes(out)

def decode(buf):
    fields, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(buf, i)
            if v >= 1 << 63:
                v -= 1 << 64
        elif wire == 2:
            n, i = read_varint(buf, i)
            v = bytes(buf[i:i + n]); i += n
        else:
            raise ValueError('unexpected wire type %d' % wire)
        fields[num] = v
    return fields

def send_msg(sock, data):
    chunks = max(1, -(-len(data) // MAX_DATA))
    for idx in range(chunks):
        part = data[idx * MAX_DATA:(idx + 1) * MAX_DATA]
        sock.send(HDR.pack(len(data), len(part), idx, chunks) + part)

def recv_msg(sock):
    out, total, chunks, idx = bytearray(), 0, 1, 0
    while idx < chunks:
        pkt = sock.recv(MAX_PACKET)
        if not pkt:
            raise EOFError('peer closed')
        t, size, i, n = HDR.unpack_from(pkt)
        if i != idx or size != len(pkt) - HDR.size:
            raise ValueError('bad chunk %d (expected %d)' % (i, idx))
        if idx == 0:
            total, chunks = t, n
        out += pkt[HDR.size:]
        idx += 1
    if len(out) != total:
        raise ValueError('expected %d bytes, got %d' % (total, len(out)))
    return bytes(out)

def client(path, module, method, body_arg):
    body = bytes((i * 7) & 0xff for i in range(int(body_arg[1:]))) if body_arg.startswith('@') else bytes.fromhex(body_arg)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    results = []
    for seq in (1, 2):
        send_msg(s, encode([(1, module), (2, method), (3, seq), (4, body)]))
        r = decode(recv_msg(s))
        rb = r.get(3, b'')
        results.append({'sequence': r.get(1, 0), 'status': r.get(2, 0), 'body_len': len(rb), 'body_hex': rb[:4096].hex(), 'body_matches': rb == body})
    s.close()
    print(json.dumps(results))

def invoke(path, service_id, method, data):
    # spec.proto.runtime.v1.InvokeServiceRequest {1: id, 3: CommonInvokeRequest {1: method,
    # 2: Any {2: value}, 3: content_type, 4: HTTPExtension {1: verb (3 = POST)}}}
    common = encode([(1, method.encode()), (2, encode([(2, data.encode())])), (3, b'application/json'), (4, encode([(1, 3)]))])
    body = encode([(1, service_id.encode()), (3, common)])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    send_msg(s, encode([(1, 10), (2, 1001), (3, 1), (4, body)]))
    r = decode(recv_msg(s))
    s.close()
    status, rb = r.get(2, 0), r.get(3, b'')
    if status == 0:
        # InvokeResponse {1: Any {2: value}, 2: content_type}
        resp = decode(rb)
        print(json.dumps({'sequence': r.get(1, 0), 'status': 'SUCCESS', 'content_type': resp.get(2, b'').decode(),
                          'data': decode(resp.get(1, b'')).get(2, b'').decode()}))
    else:
        # FAILURE carries a google.rpc.Status {1: code, 2: message}
        st = decode(rb)
        print(json.dumps({'sequence': r.get(1, 0), 'status': status, 'code': st.get(1, 0), 'message': st.get(2, b'').decode()}))

def server(path):
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ls.bind(path)
    ls.listen(4)
    print('listening', flush=True)
    while True:
        conn, _ = ls.accept()
        try:
            while True:
                call = decode(recv_msg(conn))
                module, method, seq, body = call.get(1, 0), call.get(2, 0), call.get(3, 0), call.get(4, b'')
                if module != 7:
                    resp = encode([(1, seq), (2, 3)])
                elif method == 701:
                    resp = encode([(1, seq), (2, 0), (3, body[::-1])])
                else:
                    resp = encode([(1, seq), (2, 4)])
                send_msg(conn, resp)
        except EOFError:
            conn.close()

if __name__ == '__main__':
    if sys.argv[1] == 'invoke':
        invoke(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif sys.argv[1] == 'client':
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        server(sys.argv[2])
