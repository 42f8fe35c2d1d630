package dev.httptrace.tcp;

import dev.httptrace.exchange.ProcessInfo;

/**
 * What a connection whose bytes came from a TLS library (not from packets) knows of its
 * ends: the process at side 0 (the one whose calls were traced), the process at side 1
 * when that end is traced too (both ends on this host), and whether the socket under the
 * TLS stream, and with it the addresses and ports, is known.
 */
public final class TlsOrigin {
    private final ProcessInfo[] processes = new ProcessInfo[2];
    private final boolean socketKnown;

    public TlsOrigin(ProcessInfo local, boolean socketKnown) {
        this.processes[0] = local;
        this.socketKnown = socketKnown;
    }

    /** The process at {@code side}, or null when that end was not traced. */
    public ProcessInfo process(int side) { return processes[side]; }

    /** The other end is a process on this host whose calls were traced too. */
    public void peer(ProcessInfo remote) { processes[1] = remote; }

    /** The addresses and ports are those of the TCP socket; false: unknown (e.g. a memory BIO). */
    public boolean socketKnown() { return socketKnown; }
}
