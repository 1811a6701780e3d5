package mlip.bench;

import java.util.Arrays;
import java.util.concurrent.Callable;
import mlip.autograd.Variable;
import mlip.nn.TransformerBlock;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.cpu.Parallel;
import mlip.tensor.cpu.Simd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip bench layer --what vit-block}: one pre-LN ViT block, forward + backward, at ViT-Tiny's
 * size (B=32, 145 tokens, D=192, 3 heads, MLP 768) by default. Reports the median time and GFLOP/s
 * achieved, counting the matmul FLOPs (2mnk each; backward = 2x forward), which are ~all of the work.
 */
@Command(name = "layer", mixinStandardHelpOptions = true, description = "Time a layer's forward+backward and report GFLOP/s.")
public final class LayerBench implements Callable<Integer> {

    @Option(names = "--what", defaultValue = "vit-block", description = "Which layer (vit-block).")
    String what;

    @Option(names = "--batch", defaultValue = "32") int batch;
    @Option(names = "--tokens", defaultValue = "145") int tokens;
    @Option(names = "--dim", defaultValue = "192") int dim;
    @Option(names = "--heads", defaultValue = "3") int heads;
    @Option(names = "--mlp", defaultValue = "768") int mlp;
    @Option(names = "--reps", defaultValue = "10", description = "Timed iterations; the median is reported.") int reps;

    @Override
    public Integer call() {
        if (!what.equals("vit-block")) {
            System.err.println("bench layer: unknown --what '" + what + "' (known: vit-block)");
            return 2;
        }
        Generator g = new Generator(3);
        TransformerBlock block = new TransformerBlock(dim, heads, mlp, true, 1e-6, g, DType.F32);
        Tensor x = Tensor.randn(g, batch, tokens, dim);
        Tensor probe = Tensor.randn(g, batch, tokens, dim);
        double bt = (double) batch * tokens;
        double fwd = 2 * bt * dim * (3.0 * dim) + 2 * bt * dim * dim + 2 * bt * dim * mlp * 2 + 2 * 2.0 * batch * tokens * tokens * dim;
        double flops = 3 * fwd; // forward + backward (two matmuls per forward matmul)
        System.out.printf("layer vit-block B=%d T=%d D=%d H=%d mlp=%d threads=%d %s%n", batch, tokens, dim, heads, mlp,
                Parallel.defaultPool().threads(), Simd.describe());
        double[] t = new double[reps];
        for (int i = -3; i < reps; i++) {
            block.zeroGrad();
            long t0 = System.nanoTime();
            Variable xv = Variable.param(x);
            block.forward(xv, null).mul(Variable.of(probe)).sum().backward();
            long t1 = System.nanoTime();
            if (i >= 0) t[i] = (t1 - t0) / 1e9;
        }
        Arrays.sort(t);
        double med = t[reps / 2];
        System.out.printf("layer vit-block fwd+bwd median=%.2f ms %.1f GFLOP/s (%.2f GFLOP per step)%n", med * 1e3, flops / med / 1e9, flops / 1e9);
        return 0;
    }
}
