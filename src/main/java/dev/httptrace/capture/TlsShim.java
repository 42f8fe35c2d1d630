package dev.httptrace.capture;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Hand-written downcalls to the TLS half of the shim (src/main/c/tls.h), as {@link Shim} for the socket filter. */
final class TlsShim {

    static final MethodHandle EVENT_LAYOUT;
    static final MethodHandle OPEN;
    static final MethodHandle ATTACH;
    static final MethodHandle POLL;
    static final MethodHandle POLL_BUFFER_SIZE;
    static final MethodHandle LOST_SAMPLES;
    static final MethodHandle MUTE;
    static final MethodHandle REALTIME_OFFSET;
    static final MethodHandle CLOSE;

    static {
        SymbolLookup lib = Shim.LIBRARY;
        // int ht_tls_event_layout(int32_t *out, int n)
        EVENT_LAYOUT = Shim.bind(lib, "ht_tls_event_layout", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // struct ht_tls *ht_tls_open(uint32_t perf_pages, char *err, size_t errlen, int *errnum)
        OPEN = Shim.bind(lib, "ht_tls_open", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        // int ht_tls_attach(struct ht_tls *t, const char *path, char *err, size_t errlen)
        ATTACH = Shim.bind(lib, "ht_tls_attach", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        // long ht_tls_poll(struct ht_tls *t, void *buf, size_t cap)
        POLL = Shim.bind(lib, "ht_tls_poll", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
        // size_t ht_tls_poll_buffer_size(struct ht_tls *t)
        POLL_BUFFER_SIZE = Shim.bind(lib, "ht_tls_poll_buffer_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // uint64_t ht_tls_lost_samples(struct ht_tls *t)
        LOST_SAMPLES = Shim.bind(lib, "ht_tls_lost_samples", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // int ht_tls_mute(struct ht_tls *t, uint32_t tgid, uint64_t ssl, uint32_t serial)
        MUTE = Shim.bind(lib, "ht_tls_mute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
        // int64_t ht_realtime_offset_ns(void)
        REALTIME_OFFSET = Shim.bind(lib, "ht_realtime_offset_ns", FunctionDescriptor.of(JAVA_LONG));
        // void ht_tls_close(struct ht_tls *t)
        CLOSE = Shim.bind(lib, "ht_tls_close", FunctionDescriptor.ofVoid(ADDRESS));
    }

    private TlsShim() {}

    static void ensureLoaded() throws CaptureException {
        Shim.ensureLoaded();
    }
}
