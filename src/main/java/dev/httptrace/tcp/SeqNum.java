package dev.httptrace.tcp;

/** TCP sequence-number arithmetic: unsigned 32-bit values kept in longs, compared modulo 2^32. */
public final class SeqNum {
    private SeqNum() {}

    /** {@code seq + n} modulo 2^32. */
    public static long add(long seq, long n) {
        return (seq + n) & 0xFFFF_FFFFL;
    }

    /**
     * Signed distance {@code a - b} modulo 2^32: positive when {@code a} is after {@code b}.
     * Valid while the two are less than 2^31 apart, which any live window is.
     */
    public static long diff(long a, long b) {
        return (int) (a - b);
    }
}
