package dev.httptrace.output;

import java.util.function.IntFunction;

/** Remembers the last interface name resolved: consecutive records mostly share one interface. */
final class InterfaceNameCache {
    private final IntFunction<String> resolver;
    private int cachedIfindex = Integer.MIN_VALUE;
    private String cachedName;

    InterfaceNameCache(IntFunction<String> resolver) {
        this.resolver = resolver;
    }

    /** The resolver's name for ifindex, or null; only non-null answers are remembered. */
    String name(int ifindex) {
        if (ifindex == cachedIfindex) {
            return cachedName;
        }
        String name = resolver.apply(ifindex);
        if (name != null) {
            cachedIfindex = ifindex;
            cachedName = name;
        }
        return name;
    }
}
