package dev.httptrace.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What TlsCapture decodes without the kernel: the executable a process record names. */
class TlsCaptureTest {

    @Test
    void aProcessRecordNamesItsExecutableFromTheFileUpToTheRoot() {
        byte[] names = "curl\0bin\0usr\0".getBytes(StandardCharsets.UTF_8);
        assertEquals("/usr/bin/curl", TlsCapture.executable(names, 0, names.length));
    }

    @Test
    void theNamesAreReadWhereTheRecordPutsThem() {
        byte[] names = "xxnode\0v20\0opt\0yy".getBytes(StandardCharsets.UTF_8);
        assertEquals("/opt/v20/node", TlsCapture.executable(names, 2, names.length - 4));
    }

    @Test
    void aNameNeedNotBeAscii() {
        byte[] names = "tâche\0usr\0".getBytes(StandardCharsets.UTF_8);
        assertEquals("/usr/tâche", TlsCapture.executable(names, 0, names.length));
    }
}
