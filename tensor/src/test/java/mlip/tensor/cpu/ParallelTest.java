package mlip.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The pool's chunking depends only on (n, grain); every index runs once; errors surface; nesting runs inline. */
class ParallelTest {
    private static final Parallel[] POOLS = {new Parallel(1), new Parallel(2), new Parallel(3), Parallel.SERIAL};

    @Test
    void forRangeChunksDependOnlyOnNAndGrain() {
        for (int[] ng : new int[][]{{0, 5}, {1, 5}, {10, 3}, {12, 4}, {100_003, 4096}, {7, 0}, {5, 100}}) {
            int n = ng[0], grain = ng[1];
            Set<String> expected = new TreeSet<>();
            int g = Math.max(1, grain);
            for (int s = 0; s < n; s += g) expected.add(s + ":" + Math.min(n, s + g));
            for (Parallel p : POOLS) {
                Set<String> chunks = ConcurrentHashMap.newKeySet();
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(1, n));
                p.forRange(n, grain, (s, e) -> {
                    chunks.add(s + ":" + e);
                    for (int i = s; i < e; i++) hits.incrementAndGet(i);
                });
                assertEquals(expected, new TreeSet<>(chunks), "chunks of n=" + n + " grain=" + grain + " on " + p.threads() + " threads");
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " runs once");
            }
        }
    }

    @Test
    void forTasksRunsEveryTaskOnceAndRethrowsTheFirstError() {
        for (Parallel p : POOLS) {
            AtomicIntegerArray hits = new AtomicIntegerArray(1000);
            p.forTasks(1000, hits::incrementAndGet);
            for (int i = 0; i < 1000; i++) assertEquals(1, hits.get(i));
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.forTasks(64, t -> {
                if (t == 37) throw boom;
            }));
            assertSame(boom, e, "the task's own exception reaches the caller");
            AtomicInteger after = new AtomicInteger();
            p.forTasks(8, t -> after.incrementAndGet());
            assertEquals(8, after.get(), "the pool still works after an error");
            p.forTasks(0, t -> {
                throw new AssertionError("no tasks");
            });
        }
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        Parallel p = new Parallel(2);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            AtomicInteger inner = new AtomicInteger();
            p.forTasks(16, t -> p.forRange(100, 7, (s, e) -> inner.addAndGet(e - s)));
            assertEquals(1600, inner.get());
        });
    }

    @Test
    void threadCountsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new Parallel(0));
        assertEquals(3, new Parallel(3).threads());
        assertEquals(1, Parallel.SERIAL.threads());
        assertTrue(Parallel.defaultPool().threads() >= 1);
        assertSame(Parallel.defaultPool(), Parallel.defaultPool());
    }
}
