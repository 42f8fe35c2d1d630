package dev.httptrace.capture;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Hand-written downcalls to the TLS half of the shim (src/main/c/tls.h), as {@link Shim} for the socket filter. */
final class TlsShim {

    private static final CaptureException LOAD_FAILURE;
    static final MethodHandle EVENT_LAYOUT;
    static final MethodHandle OPEN;
    static final MethodHandle ATTACH;
    static final MethodHandle POLL;
    static final MethodHandle LOST_SAMPLES;
    static final MethodHandle REALTIME_OFFSET;
    static final MethodHandle CLOSE;

    static {
        SymbolLookup lib = null;
        CaptureException failure = null;
        try {
            lib = NativeLibrary.load();
        } catch (CaptureException e) {
            failure = e;
        }
        LOAD_FAILURE = failure;
        // int ht_tls_event_layout(int32_t *out, int n)
        EVENT_LAYOUT = bind(lib, "ht_tls_event_layout", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // struct ht_tls *ht_tls_open(uint32_t perf_pages, char *err, size_t errlen, int *errnum)
        OPEN = bind(lib, "ht_tls_open", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        // int ht_tls_attach(struct ht_tls *t, const char *path, char *err, size_t errlen)
        ATTACH = bind(lib, "ht_tls_attach", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        // long ht_tls_poll(struct ht_tls *t, void *buf, size_t cap)
        POLL = bind(lib, "ht_tls_poll", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
        // uint64_t ht_tls_lost_samples(struct ht_tls *t)
        LOST_SAMPLES = bind(lib, "ht_tls_lost_samples", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // int64_t ht_realtime_offset_ns(void)
        REALTIME_OFFSET = bind(lib, "ht_realtime_offset_ns", FunctionDescriptor.of(JAVA_LONG));
        // void ht_tls_close(struct ht_tls *t)
        CLOSE = bind(lib, "ht_tls_close", FunctionDescriptor.ofVoid(ADDRESS));
    }

    private TlsShim() {}

    static void ensureLoaded() throws CaptureException {
        if (LOAD_FAILURE != null) {
            throw LOAD_FAILURE;
        }
    }

    private static MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor descriptor) {
        if (lib == null) {
            return null;
        }
        var symbol = lib.find(name).orElseThrow(() ->
                new IllegalStateException("native library lacks " + name + ": rebuild with 'make'"));
        return Linker.nativeLinker().downcallHandle(symbol, descriptor);
    }
}
