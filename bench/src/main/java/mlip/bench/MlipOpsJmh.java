package mlip.bench;

import java.util.concurrent.TimeUnit;
import mlip.tensor.Composite;
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
 * The CPU versions of MLIP's own ops and the transformer fusions, each beside its composite reference in
 * the same run ({@code impl=fused} is what {@code CpuBackend} runs, {@code impl=composite} the
 * {@link Composite} it is tested against), at the {@code demo-tiny} training step's shapes (B = 64):
 * <ul>
 *   <li>patch-sentence OT over all 64 x 64 pairs, N = 48 kept patches, M = 8 sentences, E = 64, 20 Sinkhorn
 *       iterations: forward (scores + scalings) and backward (plans rebuilt from the scalings);</li>
 *   <li>top-k masking: keep 48 of 64 patch tokens of D = 128, forward (select + gather) and backward (scatter);</li>
 *   <li>attention of the ViT: B = 64, H = 4, T = 49, d = 32, forward and backward;</li>
 *   <li>bias + GELU on the MLP's (64 * 49, 256) and residual add + layer norm on (64 * 49, 128).</li>
 * </ul>
 * Run: {@code bin/mlip bench jmh MlipOpsJmh} (or a single op, e.g. {@code MlipOpsJmh.ot}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MlipOpsJmh {
    private static final double EPS = 0.1;
    private static final int ITERATIONS = 20;

    @Param({"fused", "composite"})
    public String impl;

    private boolean fused;
    private Tensor patches, sentences, sentenceMask, gradScores, u, v;   // OT: (B, N, E), (B, M, E), (B, M), (B, B), (B, B, N), (B, B, M)
    private Tensor tokens, scores, gathered, keep;                       // top-k: (B, 64, D), (B, 64), (B, 48, D), (B, 48)
    private Tensor q, k, vv, out, lse, dout;                             // attention: (B, H, T, d); lse (B, H, T)
    private Tensor mlpX, mlpBias, mlpGrad, resX, resY, lnW, lnB;         // (B*T, 256), (256); (B*T, 128), (128)

    private static Tensor unitRows(Tensor x) {
        return x.div(x.square().sum(-1, true).sqrt());
    }

    @Setup
    public void setup() {
        fused = impl.equals("fused");
        Generator g = new Generator(3);
        int b = 64, n = 48, m = 8, e = 64;
        patches = unitRows(Tensor.randn(g, b, n, e));
        sentences = unitRows(Tensor.randn(g, b, m, e));
        float[] mask = new float[b * m];
        for (int i = 0; i < b; i++) for (int s = 0; s < 3 + i % (m - 2); s++) mask[i * m + s] = 1;   // 3..8 sentences a report
        sentenceMask = Tensor.of(mask, b, m);
        Tensor.OtResult ot = Tensor.patchSentenceOt(patches, null, sentences, sentenceMask, EPS, ITERATIONS);
        u = ot.rowScalings();
        v = ot.colScalings();
        gradScores = Tensor.randn(g, b, b);

        tokens = Tensor.randn(g, b, 64, 128);
        scores = Tensor.randn(g, b, 64);
        Tensor.TopkGather sel = tokens.topkGather(scores, 48);
        gathered = Tensor.randn(g, b, 48, 128);
        keep = sel.indices();

        q = Tensor.randn(g, b, 4, 49, 32);
        k = Tensor.randn(g, b, 4, 49, 32);
        vv = Tensor.randn(g, b, 4, 49, 32);
        Tensor.AttentionResult a = Tensor.attention(q, k, vv, null);
        out = a.out();
        lse = a.lse();
        dout = Tensor.randn(g, b, 4, 49, 32);

        mlpX = Tensor.randn(g, b * 49, 256);
        mlpBias = Tensor.randn(g, 256);
        mlpGrad = Tensor.randn(g, b * 49, 256);
        resX = Tensor.randn(g, b * 49, 128);
        resY = Tensor.randn(g, b * 49, 128);
        lnW = Tensor.randn(g, 128);
        lnB = Tensor.randn(g, 128);
    }

    @Benchmark
    public Tensor otForward() {
        return fused ? Tensor.patchSentenceOt(patches, null, sentences, sentenceMask, EPS, ITERATIONS).scores()
                : Composite.patchSentenceOt(patches, null, sentences, sentenceMask, EPS, ITERATIONS)[0];
    }

    @Benchmark
    public Tensor otBackward() {
        return fused ? Tensor.patchSentenceOtScoresBackward(gradScores, patches, null, sentences, sentenceMask, u, v, EPS).dPatches()
                : Composite.patchSentenceOtScoresBackward(gradScores, patches, null, sentences, sentenceMask, u, v, EPS)[0];
    }

    @Benchmark
    public Tensor topkForward() {
        return fused ? tokens.topkGather(scores, 48).values() : Composite.topkGather(tokens, scores, 48)[0];
    }

    @Benchmark
    public Tensor topkBackward() {
        return fused ? Tensor.topkGatherBackward(gathered, keep, 64) : Composite.topkGatherBackward(gathered, keep, 64);
    }

    @Benchmark
    public Tensor attentionForward() {
        return fused ? Tensor.attention(q, k, vv, null).out() : Composite.attention(q, k, vv, null)[0];
    }

    @Benchmark
    public Tensor attentionBackward() {
        return fused ? Tensor.attentionBackward(dout, q, k, vv, out, lse, null).dq() : Composite.attentionBackward(dout, q, k, vv, out, lse, null)[0];
    }

    @Benchmark
    public Tensor biasGeluForward() {
        return fused ? mlpX.biasGelu(mlpBias, false) : Composite.biasGelu(mlpX, mlpBias, false);
    }

    @Benchmark
    public Tensor biasGeluBackward() {
        return fused ? Tensor.biasGeluBackward(mlpGrad, mlpX, mlpBias, false) : Composite.biasGeluBackward(mlpGrad, mlpX, mlpBias, false);
    }

    @Benchmark
    public Tensor addLayerNorm() {
        return fused ? resX.addLayerNormForward(resY, lnW, lnB, 1e-6).out() : Composite.addLayerNorm(resX, resY, lnW, lnB, 1e-6)[1];
    }
}
