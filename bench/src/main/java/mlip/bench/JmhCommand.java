package mlip.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code mlip bench jmh [JMH args...]}: runs the JMH suite of this module (e.g. {@code mlip bench jmh Gemm -f 1}). */
@Command(name = "jmh", description = "Run the JMH benchmarks; arguments go to JMH (try: -h, -l, a regex).")
public final class JmhCommand implements Runnable {

    @Parameters(arity = "0..*", description = "arguments passed to org.openjdk.jmh.Main")
    String[] args = new String[0];

    @Override
    public void run() {
        try {
            org.openjdk.jmh.Main.main(args);
        } catch (Exception e) {
            throw new IllegalStateException("mlip bench jmh: " + e.getMessage(), e);
        }
    }
}
