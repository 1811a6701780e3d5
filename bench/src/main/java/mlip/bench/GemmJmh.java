package mlip.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import mlip.tensor.cpu.Parallel;
import mlip.tensor.cpu.Sgemm;
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
 * {@link Sgemm#sgemm} on square row-major operands, C = A·B, on the default pool (all cores).
 * Run: {@code bin/mlip bench jmh GemmJmh}. GFLOP/s = 2 * n^3 / (time per op); {@code mlip bench gemm}
 * prints that directly, next to OpenBLAS.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmJmh {

    @Param({"256", "1024"})
    public int n;

    private float[] a;
    private float[] b;
    private float[] c;
    private Parallel pool;

    @Setup
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(1);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextDouble() * 2 - 1);
        pool = Parallel.defaultPool();
    }

    @Benchmark
    public float[] sgemm() {
        Sgemm.sgemm(pool, n, n, n, 1f, a, 0, n, 1, b, 0, n, 1, 0f, c, 0, n);
        return c;
    }
}
