package dev.httptrace.live;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The child JVM of {@link KafkaBroker}: formats the storage on the first start (with the SCRAM
 * users the tests log in as), then runs the broker until it is killed.
 *
 * <p>Arguments: the server properties file, the log directory, the cluster id, then the
 * {@code --add-scram} specs.
 */
public final class KafkaBrokerMain {
    private KafkaBrokerMain() {}

    public static void main(String[] args) {
        String config = args[0];
        Path logDir = Path.of(args[1]);
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            java.util.List<String> format = new java.util.ArrayList<>(java.util.List.of(
                    "format", "-t", args[2], "-c", config, "--standalone"));
            for (int i = 3; i < args.length; i++) {
                format.add("--add-scram");
                format.add(args[i]);
            }
            int rc = kafka.tools.StorageTool.execute(format.toArray(String[]::new), System.err);
            if (rc != 0) {
                System.err.println("KafkaBrokerMain: format failed with " + rc);
                System.exit(rc);
            }
        }
        kafka.Kafka.main(new String[] {config});
    }
}
