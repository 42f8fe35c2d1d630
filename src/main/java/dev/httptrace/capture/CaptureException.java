package dev.httptrace.capture;

/** Setting up a capture failed; {@link #reason()} says what the user should fix. */
public final class CaptureException extends Exception {

    /** What kind of failure, so the CLI can choose a documented exit code. */
    public enum Reason { PERMISSION, NO_SUCH_INTERFACE, BPF_REJECTED, NATIVE_LIBRARY, IO, OTHER }

    private final Reason reason;

    public CaptureException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
