package dev.httptrace.cli;

import dev.httptrace.capture.PcapngWriter;
import dev.httptrace.capture.Segment;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.function.IntFunction;

/**
 * The files a run writes besides stdout: the records ({@code -o}, appended) and the
 * captured segments as pcapng ({@code -w}, replaced). Both are opened before tracing
 * starts, so an unwritable path fails at once; any failure to write them is a
 * {@link Failed} with one line to show (exit code {@link ExitCode#WRITE_ERROR}).
 */
final class OutputFiles implements AutoCloseable {

    /** A file could not be opened or written; the message is the line to show. */
    static final class Failed extends RuntimeException {
        Failed(Path path, IOException e) {
            super("cannot write " + path + ": " + reason(e), null, false, false);
        }
    }

    private final OutputStream records;
    private final PcapngWriter pcap;
    private final Path pcapPath;

    private OutputFiles(OutputStream records, PcapngWriter pcap, Path pcapPath) {
        this.records = records;
        this.pcap = pcap;
        this.pcapPath = pcapPath;
    }

    /** Opens the files given (either may be null). @throws Failed when one cannot be written */
    static OutputFiles open(Path recordsPath, Path pcapPath, IntFunction<String> interfaceNames) {
        OutputStream records = null;
        try {
            if (recordsPath != null) {
                records = open(recordsPath, true);
            }
            PcapngWriter pcap = null;
            if (pcapPath != null) {
                try {
                    pcap = new PcapngWriter(open(pcapPath, false), interfaceNames);
                    pcap.flush();
                } catch (IOException e) {
                    throw new Failed(pcapPath, e);
                }
            }
            return new OutputFiles(records, pcap, pcapPath);
        } catch (Failed e) {
            closeQuietly(records);
            throw e;
        }
    }

    private static OutputStream open(Path path, boolean append) {
        try {
            return new FileOutputStream(path.toFile(), append);
        } catch (IOException e) {
            throw new Failed(path, e);
        }
    }

    /** The records file, or null for stdout. */
    OutputStream records() {
        return records;
    }

    /** The pcapng writer, or null without -w. */
    PcapngWriter pcap() {
        return pcap;
    }

    void writePcap(Segment s) {
        try {
            pcap.write(s);
        } catch (IOException e) {
            throw new Failed(pcapPath, e);
        }
    }

    void flushPcap() {
        try {
            pcap.flush();
        } catch (IOException e) {
            throw new Failed(pcapPath, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(records);
        if (pcap != null) {
            try {
                pcap.close();
            } catch (IOException e) {
                throw new Failed(pcapPath, e);
            }
        }
    }

    private static void closeQuietly(OutputStream out) {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // written and flushed per batch already; nothing more to lose
            }
        }
    }

    /** "Permission denied" rather than "/x/y (Permission denied)". */
    private static String reason(IOException e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int open = m.lastIndexOf(" (");
        return open >= 0 && m.endsWith(")") ? m.substring(open + 2, m.length() - 1) : m;
    }
}
