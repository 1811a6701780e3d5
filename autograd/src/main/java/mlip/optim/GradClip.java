package mlip.optim;

import java.util.Collection;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Tensor;

/**
 * Gradient clipping by the global L2 norm, as {@code torch.nn.utils.clip_grad_norm_}.
 *
 * <pre>{@code
 * loss.backward();
 * double norm = GradClip.clipGlobalNorm(params.values(), 1.0);   // log it: spikes show instability
 * opt.step();
 * }</pre>
 */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Computes the L2 norm of all gradients taken together (in double, whatever the gradients' dtype) and, when it
     * exceeds {@code maxNorm}, scales every gradient by {@code maxNorm / (norm + 1e-6)} (PyTorch's formula).
     * Parameters without a gradient are ignored. A non-finite norm (NaN/inf gradients) leaves the gradients as
     * they are: the caller sees it in the return value and should skip the step.
     *
     * @return the total norm before clipping
     */
    public static double clipGlobalNorm(Collection<Variable> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGlobalNorm: maxNorm must be > 0, got " + maxNorm);
        double total = globalNorm(params);
        if (!Double.isFinite(total)) return total;
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1) {
            for (Variable p : params) {
                Tensor g = p.grad();
                if (g != null) p.setGrad(g.mul(coef));
            }
        }
        return total;
    }

    /**
     * The L2 norm of all gradients taken together, computed in double; 0 when none has a gradient. The squares
     * are summed on the gradients' device and read back once (one device-to-host copy per call, not one per
     * parameter); the additions run in parameter order, so the bits are those of a plain double sum.
     */
    public static double globalNorm(Collection<Variable> params) {
        Tensor sumSq = null;                                                         // () F64
        for (Variable p : params) {
            Tensor g = p.grad();
            if (g == null || g.numel() == 0) continue;
            // The engine's reductions use a fixed chunking, so this is deterministic run to run.
            Tensor s = g.to(DType.F64).square().sum();
            sumSq = sumSq == null ? s : sumSq.add(s);
        }
        return sumSq == null ? 0 : Math.sqrt(sumSq.item());
    }
}
