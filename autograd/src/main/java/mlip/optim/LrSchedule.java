package mlip.optim;

/**
 * A learning rate as a function of the step ({@code 0} is the first optimizer step).
 *
 * <pre>{@code
 * LrSchedule sched = new WarmupCosine(3e-4, 100, 10_000, 3e-6);
 * for (int step = 0; step < 10_000; step++) {
 *     opt.setLr(sched.lr(step));
 *     ...
 *     opt.step();
 * }
 * }</pre>
 *
 * A schedule is a pure function of the step, so a resumed run recomputes its learning rate from the
 * restored step count ({@link Optimizer#stepCount()}) and needs no schedule state in the checkpoint.
 */
@FunctionalInterface
public interface LrSchedule {
    /** The learning rate for step {@code step} (0-based). */
    double lr(long step);

    /** The same rate at every step. */
    static LrSchedule constant(double lr) {
        return step -> lr;
    }
}
