package mlip.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * Moving named parameter values in and out of models, as PyTorch's {@code state_dict()} /
 * {@code load_state_dict(strict=...)}.
 *
 * <pre>{@code
 * Map<String, Variable> params = ...;                            // "fc.weight" -> Variable, ...
 * Safetensors.write(ckpt, StateDicts.values(params), Map.of("format", "pt"));
 * StateDicts.load(params, Safetensors.read(ckpt), true);        // throws one error listing every problem
 * StateDicts.Report r = StateDicts.load(params, hfWeights, false);
 * System.out.println("not in the checkpoint: " + r.missing());
 * }</pre>
 *
 * <p>Decisions: a load checks <b>everything before it assigns anything</b>, so a failed load leaves the
 * parameters as they were. Keys whose shapes differ are an error even when not strict (as in PyTorch, where
 * a size mismatch is never skipped silently). Values are converted to each parameter's dtype and device; a
 * loaded tensor whose dtype and device already match is taken as it is (not copied).
 */
public final class StateDicts {
    private StateDicts() {
    }

    /** A shape that did not match: the parameter's and the loaded one. */
    public record Mismatch(String key, int[] expected, int[] got) {
        @Override
        public String toString() {
            return key + " (expected " + Shape.str(expected) + ", got " + Shape.str(got) + ")";
        }
    }

    /** What a non-strict load did: keys loaded, parameters the checkpoint lacked, checkpoint keys no parameter has. */
    public record Report(List<String> loaded, List<String> missing, List<String> unexpected) {
        public boolean complete() {
            return missing.isEmpty() && unexpected.isEmpty();
        }
    }

    /** The current values by name, in the map's order (for {@link Safetensors#write}). */
    public static LinkedHashMap<String, Tensor> values(Map<String, Variable> params) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Variable> e : params.entrySet()) out.put(e.getKey(), e.getValue().value());
        return out;
    }

    /**
     * Assigns {@code loaded} values to {@code params} by name (through {@link Variable#assign}, converting dtype
     * and device). When {@code strict}, any missing, unexpected or mis-shaped key is an error; otherwise only
     * mis-shaped keys are, and the report lists what was missing or unexpected.
     *
     * @throws IllegalArgumentException one message naming every missing, unexpected and mis-shaped key; nothing is assigned then
     */
    public static Report load(Map<String, Variable> params, Map<String, Tensor> loaded, boolean strict) {
        List<String> ok = new ArrayList<>(), missing = new ArrayList<>(), unexpected = new ArrayList<>();
        List<Mismatch> mismatched = new ArrayList<>();
        for (Map.Entry<String, Variable> e : params.entrySet()) {
            Tensor t = loaded.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue().shape())) {
                mismatched.add(new Mismatch(e.getKey(), e.getValue().shape(), t.shape()));
            } else {
                ok.add(e.getKey());
            }
        }
        for (String k : loaded.keySet()) {
            if (!params.containsKey(k)) unexpected.add(k);
        }
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            StringBuilder sb = new StringBuilder("load state dict: ");
            List<String> parts = new ArrayList<>();
            if (strict && !missing.isEmpty()) parts.add(count(missing.size(), "missing key"));
            if (strict && !unexpected.isEmpty()) parts.add(count(unexpected.size(), "unexpected key"));
            if (!mismatched.isEmpty()) parts.add(count(mismatched.size(), "shape mismatch", "shape mismatches"));
            sb.append(String.join(", ", parts)).append("; nothing was loaded");
            if (strict && !missing.isEmpty()) sb.append("\n  missing (parameters the checkpoint lacks): ").append(String.join(", ", missing));
            if (strict && !unexpected.isEmpty()) sb.append("\n  unexpected (checkpoint keys no parameter has): ").append(String.join(", ", unexpected));
            if (!mismatched.isEmpty()) {
                sb.append("\n  shape mismatch: ");
                sb.append(String.join(", ", mismatched.stream().map(Mismatch::toString).toList()));
            }
            throw new IllegalArgumentException(sb.toString());
        }
        for (String k : ok) {
            Variable p = params.get(k);
            Tensor t = loaded.get(k).to(p.value().dtype()).to(p.value().device()).contiguous();
            p.assign(t);
        }
        return new Report(List.copyOf(ok), List.copyOf(missing), List.copyOf(unexpected));
    }

    private static String count(int n, String what) {
        return count(n, what, what + "s");
    }

    private static String count(int n, String one, String many) {
        return n + " " + (n == 1 ? one : many);
    }
}
