"""An HTTP/2 server (python3-h2) whose every frame a test controls, by path:
/trailers  headers, data, trailers        /padded  data with 50 bytes of padding
/reset     RST_STREAM CANCEL at once      /goaway  GOAWAY (last stream = this one - 2)
/large     a 40 KiB response header block (HEADERS + CONTINUATION)
anything else: 200 with "ok". Takes prior knowledge, and an HTTP/1.1 Upgrade to h2c (101, then
the upgraded request answered as stream 1). Prints its port on stdout once listening (port 0 = any)."""
import socket, sys
import h2.config, h2.connection, h2.events, h2.errors

def serve(conn_sock):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    data = conn_sock.recv(65535)
    if not data:
        return  # a probe of the port: connected and closed
    if data.startswith(b'PRI'):
        conn.initiate_connection()
    else:  # HTTP/1.1 asking for h2c
        while b'\r\n\r\n' not in data:
            more = conn_sock.recv(65535)
            if not more:
                return
            data += more
        head, _, data = data.partition(b'\r\n\r\n')
        lines = head.split(b'\r\n')
        fields = {k.strip().lower(): v.strip() for k, _, v in (l.partition(b':') for l in lines[1:])}
        conn_sock.sendall(b'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n')
        conn.initiate_upgrade_connection(fields[b'http2-settings'])
        respond(conn, 1, lines[0].split()[1].decode())
    conn_sock.sendall(conn.data_to_send())
    while True:
        if not data:
            data = conn_sock.recv(65535)
        if not data:
            return
        events, data = conn.receive_data(data), b''
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                respond(conn, event.stream_id, dict(event.headers).get(b':path', b'/').decode())
            elif isinstance(event, h2.events.ConnectionTerminated):
                return
        conn_sock.sendall(conn.data_to_send())

def respond(conn, sid, path):
    if path == '/trailers':
        conn.send_headers(sid, [(':status', '200'), ('content-type', 'text/plain')])
        conn.send_data(sid, b'body')
        conn.send_headers(sid, [('x-checksum', 'abc123')], end_stream=True)
    elif path == '/padded':
        conn.send_headers(sid, [(':status', '200')])
        conn.send_data(sid, b'x' * 10, end_stream=True, pad_length=50)
    elif path == '/reset':
        conn.reset_stream(sid, error_code=h2.errors.ErrorCodes.CANCEL)
    elif path == '/goaway':
        conn.send_headers(sid, [(':status', '503')], end_stream=True)
        conn.close_connection(last_stream_id=sid)
    elif path == '/large':
        conn.send_headers(sid, [(':status', '200'), ('x-large', 'v' * 40000)], end_stream=True)
    else:
        conn.send_headers(sid, [(':status', '200'), ('content-length', '2')])
        conn.send_data(sid, b'ok', end_stream=True)

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    try:
        serve(c)
    except Exception as e:
        print('connection ended:', e, file=sys.stderr, flush=True)
    finally:
        c.close()
