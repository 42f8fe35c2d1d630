package dev.httptrace.protocol;

/** The application protocols a connection can be read as; decided once per connection. */
public enum Protocol {
    HTTP1("1.1"),
    HTTP2("2");

    private final String version;

    Protocol(String version) {
        this.version = version;
    }

    /** As in {@code .network.protocol.version}. */
    public String version() { return version; }
}
