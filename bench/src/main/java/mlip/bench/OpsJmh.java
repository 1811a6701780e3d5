package mlip.bench;

import java.util.concurrent.TimeUnit;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fused row ops on transformer-sized activations: ViT-Tiny at batch 32 is (32 * 145, 192) tokens;
 * attention scores are (32 * 3 * 145, 145). Run: {@code bin/mlip bench jmh OpsJmh}.
 * Each op reads and writes its tensor once, so divide bytes moved by the time for GB/s against the
 * memory roofline (JMH prints the time; {@code 2 * rows * cols * 4} bytes per call).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OpsJmh {

    @Param({"4640x192", "13920x145"})
    public String shape;

    private Tensor x;
    private Tensor weight;
    private Tensor bias;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        int rows = Integer.parseInt(p[0]), cols = Integer.parseInt(p[1]);
        Generator g = new Generator(1);
        x = Tensor.randn(g, rows, cols);
        weight = Tensor.randn(g, cols);
        bias = Tensor.randn(g, cols);
    }

    @Benchmark
    public Tensor softmax() {
        return x.softmax(-1);
    }

    @Benchmark
    public Tensor layerNorm() {
        return x.layerNorm(weight, bias, 1e-5);
    }

    @Benchmark
    public Tensor geluTanh() {
        return x.gelu(true);
    }

    @Benchmark
    public Tensor geluErf() {
        return x.gelu(false);
    }
}
