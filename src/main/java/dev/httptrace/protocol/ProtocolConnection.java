package dev.httptrace.protocol;

import dev.httptrace.tcp.ConnectionHandler;

/** A protocol's reading of one connection. */
public interface ProtocolConnection extends ConnectionHandler {

    /**
     * A message of this protocol was recognised on the connection. Until then, a connection
     * joined mid-way is read only tentatively and may still turn out to be another protocol.
     */
    boolean recognised();
}
