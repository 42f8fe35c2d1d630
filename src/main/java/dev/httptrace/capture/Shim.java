package dev.httptrace.capture;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Hand-written downcalls to the shim's flat C API (src/main/c/httptrace.h), one
 * {@code static final} handle per function so {@code invokeExact} is inlined. No
 * upcalls: the shim copies records into memory Java owns.
 */
final class Shim {

    private static final CaptureException LOAD_FAILURE;
    static final MethodHandle EVENT_LAYOUT;
    static final MethodHandle OPEN;
    static final MethodHandle ATTACH;
    static final MethodHandle ADD_HOST;
    static final MethodHandle SKIP_CONNECTION;
    static final MethodHandle CAPTURE_WHOLE;
    static final MethodHandle POLL;
    static final MethodHandle POLL_BUFFER_SIZE;
    static final MethodHandle LOST_SAMPLES;
    static final MethodHandle RAISE_THREAD_PRIORITY;
    static final MethodHandle REALTIME_OFFSET;
    static final MethodHandle STATS;
    static final MethodHandle TEST_RUN;
    static final MethodHandle CLOSE;

    /** The loaded shim (null when it could not be loaded): the TLS half binds from it too. */
    static final SymbolLookup LIBRARY;

    static {
        SymbolLookup lib = null;
        CaptureException failure = null;
        try {
            lib = NativeLibrary.load();
        } catch (CaptureException e) {
            failure = e;
        }
        LIBRARY = lib;
        LOAD_FAILURE = failure;
        // int ht_event_layout(int32_t *out, int n)
        EVENT_LAYOUT = bind(lib, "ht_event_layout", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // struct ht_tracer *ht_open(uint32_t snaplen, const uint16_t *ports, int nports,
        //                           uint32_t perf_pages, char *err, size_t errlen, int *errnum)
        OPEN = bind(lib, "ht_open", FunctionDescriptor.of(ADDRESS,
                JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        // int ht_attach(struct ht_tracer *ht, const char *ifname, char *err, size_t errlen)
        ATTACH = bind(lib, "ht_attach", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        // int ht_add_host(struct ht_tracer *ht, int family, const uint8_t *addr, int prefix_bits,
        //                 char *err, size_t errlen)
        ADD_HOST = bind(lib, "ht_add_host", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        // int ht_skip_connection(struct ht_tracer *ht, int family, const uint8_t *a, int aport,
        //                        const uint8_t *b, int bport)
        SKIP_CONNECTION = bind(lib, "ht_skip_connection", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        // int ht_capture_whole(struct ht_tracer *ht, int family, const uint8_t *a, int aport,
        //                      const uint8_t *b, int bport)
        CAPTURE_WHOLE = bind(lib, "ht_capture_whole", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
        // long ht_poll(struct ht_tracer *ht, void *buf, size_t cap, int timeout_ms)
        POLL = bind(lib, "ht_poll", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        // int ht_raise_thread_priority(void)
        RAISE_THREAD_PRIORITY = bind(lib, "ht_raise_thread_priority", FunctionDescriptor.of(JAVA_INT));
        // uint64_t ht_lost_samples(struct ht_tracer *ht)
        LOST_SAMPLES = bind(lib, "ht_lost_samples", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // size_t ht_poll_buffer_size(struct ht_tracer *ht)
        POLL_BUFFER_SIZE = bind(lib, "ht_poll_buffer_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // int64_t ht_realtime_offset_ns(void)
        REALTIME_OFFSET = bind(lib, "ht_realtime_offset_ns", FunctionDescriptor.of(JAVA_LONG));
        // int ht_stats(struct ht_tracer *ht, uint64_t *out, int n)
        STATS = bind(lib, "ht_stats", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        // long ht_test_run(struct ht_tracer *ht, const void *frame, uint32_t len, void *buf, size_t cap)
        TEST_RUN = bind(lib, "ht_test_run", FunctionDescriptor.of(JAVA_LONG,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        // void ht_close(struct ht_tracer *ht)
        CLOSE = bind(lib, "ht_close", FunctionDescriptor.ofVoid(ADDRESS));
    }

    private Shim() {}

    /** Throws the reason the library could not be loaded, if it could not. */
    static void ensureLoaded() throws CaptureException {
        if (LOAD_FAILURE != null) {
            throw LOAD_FAILURE;
        }
    }

    /** A downcall handle for a function of the shim; null when the library did not load. */
    static MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor descriptor) {
        if (lib == null) {
            return null;
        }
        var symbol = lib.find(name).orElseThrow(() ->
                new IllegalStateException("native library lacks " + name + ": rebuild with 'make'"));
        return Linker.nativeLinker().downcallHandle(symbol, descriptor);
    }
}
