package mlip.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The engine around the rules: accumulation, diamonds, no-grad scopes, freeing, detach, deep graphs. */
class VariableTest {

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        Variable x = Variable.param(Tensor.of(new double[]{1, 2, 3}, 3));
        x.mul(2).sum().backward();
        x.mul(3).sum().backward();
        assertArrayEquals(new double[]{5, 5, 5}, x.grad().toDoubleArray());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void aSharedInputGetsTheSumOfBothPaths() {
        Variable x = Variable.param(Tensor.of(new double[]{2}, 1));
        Variable y = x.square();               // y = x^2, used twice below
        y.mul(y).add(y).sum().backward();      // d/dx (x^4 + x^2) = 4x^3 + 2x = 36
        assertEquals(36, x.grad().item(), 1e-12);
    }

    @Test
    void noGradRecordsNothing() {
        Variable x = Variable.param(Tensor.ones(2));
        Variable y;
        try (var ignored = GradMode.noGrad()) {
            y = x.mul(3);
        }
        assertFalse(y.requiresGrad());
        assertTrue(GradMode.isEnabled());
        assertThrows(IllegalStateException.class, () -> y.sum().backward());
    }

    @Test
    void aFreedGraphSaysHowToKeepIt() {
        Variable x = Variable.param(Tensor.ones(2));
        Variable loss = x.exp().sum();
        loss.backward(Tensor.ones(new int[0]), true);
        loss.backward(Tensor.ones(new int[0]), false);    // retained once: a second pass works
        assertArrayEquals(new double[]{2 * Math.E, 2 * Math.E}, x.grad().toDoubleArray(), 1e-5);
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void detachStopsTheGradient() {
        Variable x = Variable.param(Tensor.of(new double[]{3}, 1));
        x.mul(x.detach()).sum().backward();
        assertEquals(3, x.grad().item(), 1e-12);
    }

    @Test
    void broadcastGradientsAreSummedToTheInputShape() {
        Variable b = Variable.param(Tensor.zeros(1, 4));
        Variable.of(Tensor.ones(3, 4)).add(b).sum().backward();
        assertArrayEquals(new int[]{1, 4}, b.grad().shape());
        assertArrayEquals(new float[]{3, 3, 3, 3}, b.grad().toFloatArray());
    }

    @Test
    void aDeepChainNeedsNoRecursion() {
        Variable x = Variable.param(Tensor.ones(1));
        Variable y = x;
        for (int i = 0; i < 20_000; i++) y = y.add(0.0);
        y.sum().backward();
        assertEquals(1, x.grad().item(), 0);
    }

    @Test
    void backwardNeedsAScalarOrASeed() {
        Variable x = Variable.param(Tensor.ones(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.mul(2).backward());
        assertTrue(e.getMessage().contains("[2]"), e.getMessage());
    }
}
