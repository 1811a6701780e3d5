package mlip.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictsTest {
    @TempDir
    Path dir;

    private static LinkedHashMap<String, Variable> model() {
        LinkedHashMap<String, Variable> p = new LinkedHashMap<>();
        p.put("fc.weight", Variable.param(Tensor.zeros(4, 3)));
        p.put("fc.bias", Variable.param(Tensor.zeros(4)));
        p.put("norm.weight", Variable.param(Tensor.ones(3)));
        return p;
    }

    @Test
    void strictLoadThroughSafetensorsRestoresEveryValue() throws IOException {
        Generator g = new Generator(3);
        LinkedHashMap<String, Variable> a = model();
        for (Variable v : a.values()) v.assign(Tensor.randn(g, v.shape()));
        Path f = dir.resolve("m.safetensors");
        Safetensors.write(f, StateDicts.values(a));

        LinkedHashMap<String, Variable> b = model();
        StateDicts.Report r = StateDicts.load(b, Safetensors.read(f), true);
        assertTrue(r.complete());
        assertEquals(List.of("fc.weight", "fc.bias", "norm.weight"), r.loaded());
        for (String k : a.keySet()) SafetensorsTest.assertBitEqual(k, a.get(k).value(), b.get(k).value());
    }

    @Test
    void loadConvertsTheDtypeAndTakesAMatchingTensorAsItIs() {
        LinkedHashMap<String, Variable> p = model();
        Map<String, Tensor> loaded = new LinkedHashMap<>();
        loaded.put("fc.weight", Tensor.full(DType.F64, mlip.tensor.Device.CPU, 0.5, 4, 3));
        Tensor bias = Tensor.ones(4);
        loaded.put("fc.bias", bias);
        loaded.put("norm.weight", Tensor.ones(3));
        StateDicts.load(p, loaded, true);
        assertEquals(DType.F32, p.get("fc.weight").value().dtype());
        assertArrayEquals(new float[]{0.5f, 0.5f, 0.5f}, p.get("fc.weight").value().select(0, 2).toFloatArray());
        assertSame(bias, p.get("fc.bias").value());
    }

    @Test
    void strictLoadNamesEveryMissingUnexpectedAndMisshapedKeyInOneErrorAndLoadsNothing() {
        LinkedHashMap<String, Variable> p = model();
        Map<String, Tensor> loaded = new LinkedHashMap<>();
        loaded.put("fc.weight", Tensor.ones(3, 4));            // transposed: mis-shaped
        loaded.put("norm.weight", Tensor.full(DType.F32, mlip.tensor.Device.CPU, 2, 3)); // fine, but must not be assigned
        loaded.put("head.weight", Tensor.ones(2));             // unexpected
        loaded.put("pooler.dense.bias", Tensor.ones(2));       // unexpected
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(p, loaded, true));
        String m = e.getMessage();
        assertTrue(m.contains("1 missing key") && m.contains("fc.bias"), m);
        assertTrue(m.contains("2 unexpected keys") && m.contains("head.weight") && m.contains("pooler.dense.bias"), m);
        assertTrue(m.contains("1 shape mismatch") && m.contains("fc.weight (expected [4, 3], got [3, 4])"), m);
        assertArrayEquals(new float[]{1, 1, 1}, p.get("norm.weight").value().toFloatArray(), "nothing was assigned");
    }

    @Test
    void nonStrictLoadReportsMissingAndUnexpectedButStillRejectsWrongShapes() {
        LinkedHashMap<String, Variable> p = model();
        Map<String, Tensor> loaded = new LinkedHashMap<>();
        loaded.put("fc.weight", Tensor.ones(4, 3));
        loaded.put("cls.predictions.bias", Tensor.ones(7));
        StateDicts.Report r = StateDicts.load(p, loaded, false);
        assertEquals(List.of("fc.weight"), r.loaded());
        assertEquals(List.of("fc.bias", "norm.weight"), r.missing());
        assertEquals(List.of("cls.predictions.bias"), r.unexpected());
        assertEquals(12.0, p.get("fc.weight").value().sum().item());

        loaded.put("fc.bias", Tensor.ones(5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(p, loaded, false));
        assertTrue(e.getMessage().contains("fc.bias (expected [4], got [5])"), e.getMessage());
        assertTrue(!e.getMessage().contains("missing"), "non-strict does not complain about missing keys: " + e.getMessage());
    }
}
