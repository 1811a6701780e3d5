package mlip.bench;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** {@code mlip bench jmh [JMH args...]}: runs the JMH suite of this module, e.g. {@code mlip bench jmh OpsJmh -f 1 -wi 2}. */
@Command(name = "jmh", description = "Run the JMH benchmarks; every argument goes to JMH (try: -h, -l, a regex such as GemmJmh).")
public final class JmhCommand implements Runnable {

    /** Everything after {@code jmh}, in order: JMH's options with their values, and benchmark regexes. */
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public void run() {
        try {
            org.openjdk.jmh.Main.main(args.toArray(new String[0]));
        } catch (Exception e) {
            throw new IllegalStateException("mlip bench jmh: " + e.getMessage(), e);
        }
    }
}
