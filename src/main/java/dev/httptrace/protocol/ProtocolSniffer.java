package dev.httptrace.protocol;

/** Tells from a stream's first bytes, or from the start of a segment, whether they are this protocol. */
@FunctionalInterface
public interface ProtocolSniffer {

    enum Guess { YES, NO, MORE }

    /**
     * @param atStart {@code buf[off]} is the first byte of the stream, seen from its start (lenient);
     *                false: the first byte of a segment of a stream joined mid-way (strict: body
     *                bytes that merely look like the protocol must say NO)
     * @return MORE only when {@code atStart} and more bytes would decide
     */
    Guess sniff(byte[] buf, int off, int len, boolean atStart);
}
