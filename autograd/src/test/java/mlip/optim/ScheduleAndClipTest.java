package mlip.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ScheduleAndClipTest {

    @Test
    void warmupCosineAtItsLandmarks() {
        WarmupCosine s = new WarmupCosine(1e-3, 10, 110, 1e-5);
        assertEquals(1e-4, s.lr(0), 1e-18);                        // warmup start: baseLr / warmup, not 0
        assertEquals(5e-4, s.lr(4), 1e-18);
        assertEquals(1e-3, s.lr(9), 1e-18);                        // warmup end
        assertEquals(1e-3, s.lr(10), 1e-18);                       // cosine start
        assertEquals((1e-3 + 1e-5) / 2, s.lr(60), 1e-18);          // half-way: cos(pi/2) = 0
        double quarter = 1e-5 + (1e-3 - 1e-5) * (1 + Math.cos(Math.PI / 4)) / 2;
        assertEquals(quarter, s.lr(35), 1e-18);
        assertEquals(1e-5, s.lr(110), 1e-18);                      // end
        assertEquals(1e-5, s.lr(1_000_000), 1e-18);                // floor after the end
        assertTrue(s.lr(109) > 1e-5 && s.lr(109) < 1.05e-5);
        for (int i = 10; i < 110; i++) assertTrue(s.lr(i + 1) <= s.lr(i), "monotone decay at " + i);
    }

    @Test
    void noWarmupAndDegenerateSchedules() {
        WarmupCosine s = new WarmupCosine(0.1, 0, 100, 0);
        assertEquals(0.1, s.lr(0), 1e-18);
        assertEquals(0.0, s.lr(100), 1e-18);
        WarmupCosine onlyWarmup = new WarmupCosine(0.1, 4, 4, 0.01);
        assertEquals(0.1, onlyWarmup.lr(3), 1e-18);
        assertEquals(0.01, onlyWarmup.lr(4), 1e-18);
        assertEquals(0.5, LrSchedule.constant(0.5).lr(12345));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(0.1, 10, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(0.1, 10, 50, 0.2));
        assertThrows(IllegalArgumentException.class, () -> s.lr(-1));
    }

    @Test
    void clipScalesAllGradientsByOneFactorWhenAboveTheMaximum() {
        Variable a = Variable.param(Tensor.zeros(2));
        Variable b = Variable.param(Tensor.zeros(DType.F64, 1, 1));
        Variable none = Variable.param(Tensor.zeros(3));            // no gradient: ignored
        a.setGrad(Tensor.of(new float[]{3, 4}, 2));
        b.setGrad(Tensor.of(new double[]{12}, 1, 1));
        double norm = GradClip.clipGlobalNorm(List.of(a, b, none), 6.5);
        assertEquals(13.0, norm, 1e-12);                            // sqrt(9 + 16 + 144)
        double coef = 6.5 / (13.0 + 1e-6);
        assertArrayEquals(new float[]{(float) (3 * coef), (float) (4 * coef)}, a.grad().toFloatArray(), 1e-6f);
        assertEquals(12 * coef, b.grad().item(), 1e-12);
        assertNull(none.grad());
        assertEquals(6.5, GradClip.globalNorm(List.of(a, b, none)), 1e-5);
    }

    @Test
    void clipLeavesSmallAndNonFiniteGradientsAlone() {
        Variable a = Variable.param(Tensor.zeros(2));
        Tensor g = Tensor.of(new float[]{0.3f, 0.4f}, 2);
        a.setGrad(g);
        assertEquals(0.5, GradClip.clipGlobalNorm(List.of(a), 1.0), 1e-7);
        assertSame(g, a.grad(), "below the maximum: untouched");
        Tensor bad = Tensor.of(new float[]{Float.NaN, 1}, 2);
        a.setGrad(bad);
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(List.of(a), 1.0)));
        assertSame(bad, a.grad());
        assertEquals(0.0, GradClip.clipGlobalNorm(List.of(Variable.param(Tensor.zeros(2))), 1.0));
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGlobalNorm(List.of(a), 0));
    }

    @Test
    void clipNormIsComputedInDouble() {
        // 4096 gradients of 1e-3 in F32: a float accumulation would drift; in double the norm is sqrt(4096) * 1e-3 = 0.064
        Variable a = Variable.param(Tensor.zeros(64, 64));
        a.setGrad(Tensor.full(DType.F32, mlip.tensor.Device.CPU, 1e-3, 64, 64));
        assertEquals(64 * (double) 1e-3f, GradClip.globalNorm(List.of(a)), 1e-15);
    }
}
