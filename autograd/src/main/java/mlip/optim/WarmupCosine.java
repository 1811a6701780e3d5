package mlip.optim;

/**
 * Linear warmup, then cosine decay to a floor (llm.c's schedule, with a minimum learning rate):
 * <pre>
 *   step &lt; warmup:           lr = baseLr * (step + 1) / warmup
 *   warmup &lt;= step &lt; total:  r = (step - warmup) / (total - warmup);  lr = minLr + (baseLr - minLr) * (1 + cos(pi r)) / 2
 *   step &gt;= total:           lr = minLr
 * </pre>
 * The first step (0) already uses {@code baseLr / warmup} rather than 0 (a step at lr 0 would be wasted), the last
 * warmup step and the first cosine step both use {@code baseLr}, and step {@code total} reaches {@code minLr}.
 *
 * <pre>{@code
 * LrSchedule s = new WarmupCosine(1e-3, 10, 110, 1e-5);
 * s.lr(0);    // 1e-4
 * s.lr(9);    // 1e-3, end of warmup
 * s.lr(60);   // (1e-3 + 1e-5) / 2, half-way through the cosine
 * s.lr(110);  // 1e-5 from here on
 * }</pre>
 */
public record WarmupCosine(double baseLr, long warmupSteps, long totalSteps, double minLr) implements LrSchedule {

    public WarmupCosine {
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) throw new IllegalArgumentException("WarmupCosine: invalid baseLr " + baseLr);
        if (!(minLr >= 0) || minLr > baseLr) throw new IllegalArgumentException("WarmupCosine: minLr " + minLr + " must be in [0, baseLr=" + baseLr + "]");
        if (warmupSteps < 0) throw new IllegalArgumentException("WarmupCosine: warmupSteps " + warmupSteps + " must be >= 0");
        if (totalSteps < warmupSteps) {
            throw new IllegalArgumentException("WarmupCosine: totalSteps " + totalSteps + " must be >= warmupSteps " + warmupSteps);
        }
    }

    @Override
    public double lr(long step) {
        if (step < 0) throw new IllegalArgumentException("WarmupCosine: negative step " + step);
        if (step < warmupSteps) return baseLr * (step + 1) / warmupSteps;
        if (step >= totalSteps) return minLr;
        double r = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * r));
    }
}
