"""An HTTP/2 client (python3-h2) that keeps one connection: argv port, then paths. A path "-" waits
for a line on stdin first (so a test can start the tracer in between). For each stream it prints
"stream-id path status body-bytes" as it saw them (status "reset" for an RST_STREAM, "goaway"
for a stream refused by GOAWAY)."""
import socket, sys
import h2.config, h2.connection, h2.events

port = int(sys.argv[1])
sock = socket.create_connection(('127.0.0.1', port))
conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
conn.initiate_connection()
sock.sendall(conn.data_to_send())

closed = False

def request(path):
    global closed
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, [(':method', 'GET'), (':scheme', 'http'), (':authority', '127.0.0.1:%d' % port),
                            (':path', path), ('user-agent', 'h2-client/1'), ('x-tenant', 'blue')], end_stream=True)
    sock.sendall(conn.data_to_send())
    status, size = None, 0
    while True:
        data = sock.recv(65535)
        if not data:
            print(sid, path, 'closed', size, flush=True)
            return False
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == sid:
                status = dict(event.headers)[b':status'].decode()
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                size += len(event.data)
                conn.acknowledge_received_data(event.flow_controlled_length, sid)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == sid:
                sock.sendall(conn.data_to_send())
                print(sid, path, status, size, flush=True)
                return True
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == sid:
                print(sid, path, 'reset', size, flush=True)
                return True
            elif isinstance(event, h2.events.ConnectionTerminated):
                closed = True
                if event.last_stream_id < sid:
                    print(sid, path, 'goaway', size, flush=True)
                    return False
        sock.sendall(conn.data_to_send())

for path in sys.argv[2:]:
    if closed:
        break
    if path == '-':
        sys.stdin.readline()
        continue
    if not request(path):
        break
conn.close_connection()
sock.sendall(conn.data_to_send())
sock.close()
