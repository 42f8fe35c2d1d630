package dev.httptrace.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamReader;

/**
 * tshark's HTTP dissection of a capture file, as exchanges: the second opinion the oracle
 * compares httptrace with.
 *
 * <p>tshark is told that the servers' ports carry HTTP ({@code -d tcp.port==P,http}: it only
 * guesses well-known ports), reassembles streams, heads and bodies and de-chunks, and writes
 * PDML with the {@code tcp} and {@code http} layers. PDML keeps each HTTP message of a frame
 * as its own {@code <proto name="http">}, so pipelined messages stay apart (field output
 * would join them into comma lists). A final response (any status but 1xx, except 101)
 * pairs with its request through {@code http.request_in}, the frame of the request; several
 * requests in that frame are answered in order. Interim responses are not exchanges.
 */
final class Tshark {

    /** One HTTP message as tshark saw it. {@code requestIn} is 0 when tshark paired it with nothing. */
    record Message(int frame, int stream, int srcPort, int dstPort, boolean request, String method, String uri,
                   int status, int requestIn) {}

    /**
     * A request and the status of its final response (null: tshark saw none).
     *
     * @param frame the frame tshark reports the request in (its last segment)
     */
    record Exchange(int stream, int frame, int clientPort, int serverPort, String method, String uri, Integer status) {}

    /** What tshark made of a capture: its exchanges, and final responses it paired with no request. */
    record Dissection(List<Exchange> exchanges, List<Message> orphanResponses, List<Message> messages) {}

    /** The command that dissects {@code pcap}, with HTTP decoded on {@code ports}. */
    static List<String> command(Path pcap, List<Integer> ports) {
        List<String> command = new ArrayList<>(List.of("tshark", "-n", "-r", pcap.toString(),
                "-o", "tcp.desegment_tcp_streams:TRUE",
                "-o", "http.desegment_headers:TRUE",
                "-o", "http.desegment_body:TRUE",
                "-o", "http.dechunk_body:TRUE"));
        for (int port : ports) {
            command.addAll(List.of("-d", "tcp.port==" + port + ",http"));
        }
        command.addAll(List.of("-Y", "http.request || http.response", "-T", "pdml", "-J", "tcp http"));
        return command;
    }

    /** Runs tshark on {@code pcap} (PDML kept in {@code pdml}) and reads its exchanges. */
    static Dissection dissect(Path pcap, List<Integer> ports, Path pdml) throws Exception {
        Process p = new ProcessBuilder(command(pcap, ports))
                .redirectOutput(pdml.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        p.getOutputStream().close();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroy(); // ours, by its handle
            throw new AssertionError("tshark did not finish within 180 s");
        }
        assertEquals(0, p.exitValue(), "tshark exit code");
        List<Message> messages;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(pdml), 1 << 16)) {
            messages = parse(in);
        }
        assertTrue(!messages.isEmpty(), "tshark found HTTP messages in " + pcap);
        return pair(messages);
    }

    /** The HTTP messages of a PDML document, in frame order and, within a frame, in order. */
    static List<Message> parse(InputStream pdml) throws Exception {
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        XMLStreamReader xml = factory.createXMLStreamReader(pdml);
        List<Message> out = new ArrayList<>();
        int frame = 0;
        int stream = -1;
        int src = 0;
        int dst = 0;
        Deque<String> protos = new ArrayDeque<>();
        Deque<Map<String, String>> http = new ArrayDeque<>(); // nested http layers, innermost first
        while (xml.hasNext()) {
            int event = xml.next();
            if (event == XMLStreamConstants.START_ELEMENT) {
                String element = xml.getLocalName();
                if (element.equals("proto")) {
                    String name = xml.getAttributeValue(null, "name");
                    protos.push(name);
                    if ("http".equals(name)) {
                        http.push(new HashMap<>());
                    }
                } else if (element.equals("field")) {
                    String name = xml.getAttributeValue(null, "name");
                    String show = xml.getAttributeValue(null, "show");
                    if (name == null || show == null) {
                        continue;
                    }
                    switch (name) {
                        case "num" -> frame = Integer.parseInt(show);
                        case "tcp.stream" -> stream = Integer.parseInt(show);
                        case "tcp.srcport" -> src = Integer.parseInt(show);
                        case "tcp.dstport" -> dst = Integer.parseInt(show);
                        default -> {
                            if (!http.isEmpty() && name.startsWith("http.")) {
                                http.peek().putIfAbsent(name, show);
                            }
                        }
                    }
                }
            } else if (event == XMLStreamConstants.END_ELEMENT && xml.getLocalName().equals("proto")) {
                String name = protos.pop();
                if ("http".equals(name)) {
                    Map<String, String> f = http.pop();
                    boolean request = f.containsKey("http.request.method");
                    boolean response = f.containsKey("http.response.code");
                    if (request || response) {
                        out.add(new Message(frame, stream, src, dst, request,
                                f.get("http.request.method"), f.get("http.request.uri"),
                                response ? Integer.parseInt(f.get("http.response.code")) : 0,
                                Integer.parseInt(f.getOrDefault("http.request_in", "0"))));
                    }
                }
            }
        }
        xml.close();
        return out;
    }

    /** Pairs final responses with requests by {@code http.request_in}; several requests in one frame in order. */
    static Dissection pair(List<Message> messages) {
        Map<String, List<Integer>> requestsByFrame = new LinkedHashMap<>(); // "stream/frame" -> indexes
        List<Message> requests = new ArrayList<>();
        List<Integer> status = new ArrayList<>();
        List<Integer> answers = new ArrayList<>();
        for (Message m : messages) {
            if (m.request()) {
                requestsByFrame.computeIfAbsent(m.stream() + "/" + m.frame(), k -> new ArrayList<>()).add(requests.size());
                requests.add(m);
                status.add(null);
                answers.add(0);
            }
        }
        List<Message> orphans = new ArrayList<>();
        for (Message m : messages) {
            if (m.request() || (m.status() >= 100 && m.status() < 200 && m.status() != 101)) {
                continue; // interim responses (100 Continue) are not exchanges
            }
            List<Integer> candidates = requestsByFrame.get(m.stream() + "/" + m.requestIn());
            if (m.requestIn() == 0 || candidates == null) {
                orphans.add(m);
                continue;
            }
            Integer chosen = null;
            for (int i : candidates) {
                if (answers.get(i) == 0) {
                    chosen = i;
                    break;
                }
            }
            if (chosen == null) {
                chosen = candidates.getLast(); // answered again: the last final response wins
            }
            answers.set(chosen, answers.get(chosen) + 1);
            status.set(chosen, m.status());
        }
        List<Exchange> exchanges = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            Message r = requests.get(i);
            exchanges.add(new Exchange(r.stream(), r.frame(), r.srcPort(), r.dstPort(), r.method(), r.uri(), status.get(i)));
        }
        return new Dissection(exchanges, orphans, messages);
    }

    private Tshark() {}
}
