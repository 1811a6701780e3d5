package mlip.tensor.cpu;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A fixed pool of worker threads that runs numbered tasks; the calling thread takes part.
 *
 * <p>Determinism lives with the callers, not here: a caller splits its work into tasks whose
 * boundaries do not depend on the thread count (fixed chunk sizes), and each task writes only its
 * own outputs, so which thread runs a task never changes a bit of the result.
 *
 * <pre>{@code
 * Parallel pool = new Parallel(2);
 * pool.forRange(n, 4096, (start, end) -> { for (int i = start; i < end; i++) out[i] = f(in[i]); });
 * }</pre>
 *
 * <p>A task that itself calls the pool runs its inner tasks inline (no nested fan-out, no deadlock).
 */
public final class Parallel {

    /** Body of a range loop: processes indices {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** One thread: runs every task in order on the caller (for loops that must stay sequential). */
    public static final Parallel SERIAL = new Parallel(1);

    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static volatile Parallel defaultPool;

    private final int threads;
    private final ExecutorService executor; // null when threads == 1

    /** A pool of {@code threads} threads in total (the caller counts as one). */
    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("Parallel: threads must be >= 1, got " + threads);
        this.threads = threads;
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "mlip-cpu");
            t.setDaemon(true);
            return t;
        });
    }

    /** The process-wide pool: {@code -Dmlip.threads=N}, else one thread per available core. */
    public static Parallel defaultPool() {
        Parallel p = defaultPool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = defaultPool;
                if (p == null) {
                    int n = Integer.getInteger("mlip.threads", Runtime.getRuntime().availableProcessors());
                    defaultPool = p = new Parallel(Math.max(1, n));
                }
            }
        }
        return p;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task.accept(i)} for every {@code i} in {@code [0, nTasks)} and returns when all are
     * done. The first exception thrown by a task is rethrown here.
     */
    public void forTasks(int nTasks, IntConsumer task) {
        if (nTasks <= 0) return;
        if (nTasks == 1 || executor == null || INSIDE.get()) {
            for (int i = 0; i < nTasks; i++) task.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        int helpers = Math.min(threads - 1, nTasks - 1);
        CountDownLatch done = new CountDownLatch(helpers);
        Runnable loop = () -> {
            boolean was = INSIDE.get();
            INSIDE.set(true);
            try {
                for (int i = next.getAndIncrement(); i < nTasks && error.get() == null; i = next.getAndIncrement()) {
                    task.accept(i);
                }
            } catch (Throwable t) {
                error.compareAndSet(null, t);
            } finally {
                INSIDE.set(was);
            }
        };
        for (int h = 0; h < helpers; h++) {
            executor.execute(() -> {
                try {
                    loop.run();
                } finally {
                    done.countDown();
                }
            });
        }
        loop.run();
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Parallel: interrupted while waiting for workers", e);
        }
        Throwable t = error.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        if (t != null) throw new IllegalStateException(t);
    }

    /**
     * Splits {@code [0, n)} into chunks of {@code grain} indices (the last may be shorter) and runs
     * {@code body} on each. The chunking depends only on {@code n} and {@code grain}, never on the
     * thread count.
     */
    public void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int g = Math.max(1, grain);
        int chunks = (int) ((n + (long) g - 1) / g);
        forTasks(chunks, c -> body.run(c * g, (int) Math.min(n, (long) c * g + g)));
    }
}
