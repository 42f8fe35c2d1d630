package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.httptrace.output.SchemaValidator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A container host, built for the test in two network namespaces it creates and deletes: in the
 * "host" namespace a bridge with one port, a veth whose peer is the "container" namespace's
 * interface. httptrace traces every interface of the host namespace, so each packet between the
 * host and the container is seen twice, on the bridge and on the veth. The copies are counted
 * apart, not as retransmissions, and each exchange is reported once, naming the bridge (where the
 * connection's first packet, the SYN, was seen).
 */
class BridgeIT {
    private static final String SUBNET = "10.213.77.";
    private final String host = "ht-host-" + ProcessHandle.current().pid();
    private final String container = "ht-ctr-" + ProcessHandle.current().pid();
    private final List<Process> started = new ArrayList<>();
    private boolean namespaces;

    @Test
    void copiesOnTheVethAndTheBridgeAreNotRetransmissions() throws Exception {
        Live.requireRoot();
        createContainerHost();
        int port = startServerInContainer();
        String url = "http://" + SUBNET + "2:" + port;
        String summaryPattern = "retransmitted segments";
        try (TracerProcess tracer = new TracerProcess(List.of("ip", "netns", "exec", host,
                Live.launcher().toString(), "-p", Integer.toString(port), "-c", "4", "-d", "60s"))) {
            tracer.awaitTracing();
            inHost(List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", url + "/hello",
                    "--next", "-sS", "--max-time", "10", "-o", "/dev/null", "--data-binary", "abc", url + "/items"));
            inHost(List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", url + "/hello",
                    "--next", "-sS", "--max-time", "10", "-o", "/dev/null", url + "/missing"));
            assertEquals(0, tracer.waitFor(60), String.join("\n", tracer.stderr()));
            List<String> lines = tracer.stdout();
            assertEquals(4, lines.size(), String.join("\n", lines));
            List<String> seen = new ArrayList<>();
            for (String line : lines) {
                SchemaValidator.assertValid(line);
                JsonNode r = SchemaValidator.MAPPER.readTree(line);
                seen.add(r.at("/http/request/method").asText() + " " + r.at("/url/path").asText() + " "
                        + r.at("/http/response/status_code").asInt() + " " + r.at("/httptrace/interface").asText()
                        + " retransmissions " + r.at("/httptrace/retransmissions").asInt());
            }
            assertEquals(List.of("GET /hello 200 br0 retransmissions 0", "POST /items 201 br0 retransmissions 0",
                    "GET /hello 200 br0 retransmissions 0", "GET /missing 404 br0 retransmissions 0"), seen);
            String summary = tracer.stderr().stream().filter(l -> l.contains(summaryPattern)).findFirst().orElseThrow();
            Matcher m = Pattern.compile("(\\d+) retransmitted segments, (\\d+) copies from other interfaces").matcher(summary);
            System.out.println("BridgeIT summary: " + summary);
            assertTrue(m.find(), summary);
            assertEquals("0", m.group(1), summary);
            assertTrue(Integer.parseInt(m.group(2)) >= 8, "each data segment seen on both interfaces: " + summary);
        }
    }

    private void createContainerHost() throws Exception {
        namespaces = true;
        ip("netns", "add", host);
        ip("netns", "add", container);
        ipIn(host, "link", "set", "lo", "up");
        ipIn(container, "link", "set", "lo", "up");
        ipIn(host, "link", "add", "br0", "type", "bridge");
        ipIn(host, "addr", "add", SUBNET + "1/24", "dev", "br0");
        ipIn(host, "link", "set", "br0", "up");
        ipIn(host, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", container);
        ipIn(host, "link", "set", "veth0", "master", "br0");
        ipIn(host, "link", "set", "veth0", "up");
        ipIn(container, "addr", "add", SUBNET + "2/24", "dev", "eth0");
        ipIn(container, "link", "set", "eth0", "up");
    }

    /** The JDK HttpServer in the container namespace; returns its port once it listens. */
    private int startServerInContainer() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("ip", "netns", "exec", container, java, "-cp",
                System.getProperty("java.class.path"), NamespaceServer.class.getName(), SUBNET + "2")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        started.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertTrue(line != null && line.matches("\\d+"), "server port: " + line);
        return Integer.parseInt(line);
    }

    private void inHost(List<String> command) throws Exception {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", host));
        full.addAll(command);
        Tcpdump.run(full, 30);
    }

    private static void ip(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Tcpdump.run(command, 10);
    }

    private static void ipIn(String ns, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "-n", ns));
        command.addAll(List.of(args));
        Tcpdump.run(command, 10);
    }

    /** Ends what the test started (by handle) and deletes both namespaces, with the bridge and veth in them. */
    @AfterEach
    void deleteContainerHost() throws Exception {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (namespaces) {
            new ProcessBuilder("ip", "netns", "del", host).start().waitFor(10, TimeUnit.SECONDS);
            new ProcessBuilder("ip", "netns", "del", container).start().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
