package dev.httptrace.tcp;

/** Told about each new connection the flow table starts tracking. */
@FunctionalInterface
public interface ConnectionListener {
    ConnectionHandler opened(Connection connection);
}
