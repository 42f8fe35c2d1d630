"""gRPC (python3-grpcio, C-core) without protoc: a generic handler on raw bytes.
server PORT: serves demo.Echo/Say (unary: echoes; the request "fail" gets NOT_FOUND "no such thing")
and demo.Echo/Count (server streaming: three replies); prints its port once listening.
client PORT: one Say("hi"), one Say("fail"), one Count, on one channel; prints what it saw."""
import sys, time
from concurrent import futures
import grpc

ident = lambda b: b

def say(request, context):
    if request == b'fail':
        context.abort(grpc.StatusCode.NOT_FOUND, 'no such thing')
    return request

def count(request, context):
    for i in range(3):
        yield b'n%d' % i

def server(port):
    handler = grpc.method_handlers_generic_handler('demo.Echo', {
        'Say': grpc.unary_unary_rpc_method_handler(say, ident, ident),
        'Count': grpc.unary_stream_rpc_method_handler(count, ident, ident)})
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
    bound = s.add_insecure_port('127.0.0.1:%d' % port)
    s.start()
    print(bound, flush=True)
    s.wait_for_termination()

def client(port):
    with grpc.insecure_channel('127.0.0.1:%d' % port) as ch:
        say_rpc = ch.unary_unary('/demo.Echo/Say', request_serializer=ident, response_deserializer=ident)
        print('Say', say_rpc(b'hi', timeout=10), flush=True)
        try:
            say_rpc(b'fail', timeout=10)
        except grpc.RpcError as e:
            print('Say', e.code().name, e.details(), flush=True)
        count_rpc = ch.unary_stream('/demo.Echo/Count', request_serializer=ident, response_deserializer=ident)
        print('Count', len(list(count_rpc(b'x', timeout=10))), flush=True)

(server if sys.argv[1] == 'server' else client)(int(sys.argv[2]))
