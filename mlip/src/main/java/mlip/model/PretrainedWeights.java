package mlip.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.autograd.Variable;
import mlip.io.Safetensors;
import mlip.io.StateDicts;
import mlip.nn.TextTransformer;
import mlip.nn.VisionTransformer;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * Pretrained encoder weights, loaded by name: a Hugging Face BERT directory (Bio_ClinicalBERT's layout:
 * {@code config.json}, {@code model.safetensors}, {@code vocab.txt}) into a {@link TextTransformer}, and a
 * timm ViT {@code model.safetensors} (e.g. {@code vit_base_patch16_224}) into a {@link VisionTransformer}.
 *
 * <pre>{@code
 * TextTransformer bert = new TextTransformer(28996, 512, 2, 768, 12, 12, 3072, 0.1, g, DType.F32);
 * PretrainedWeights.Report r = PretrainedWeights.loadBert(bert, 12, Path.of("Bio_ClinicalBERT"));
 * System.err.println(r.summary());   // ... loaded 197 tensors; ignored 5: bert.pooler.dense.weight, ...
 *
 * VisionTransformer vit = new VisionTransformer(96, 16, 1, 768, 12, 12, 3072, g, DType.F32);
 * PretrainedWeights.loadTimmVit(vit, Path.of("vit_base_patch16_224/model.safetensors"));  // RGB summed to gray, 14x14 positions to 6x6
 * }</pre>
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li><b>Checked before anything is assigned</b>: the BERT config, every name, every shape. A failed load
 *       leaves the module as it was ({@link StateDicts#load}'s rule).</li>
 *   <li><b>BERT config</b>: hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
 *       vocab_size, type_vocab_size must equal the encoder's; hidden_act must be {@code gelu} (exact erf, as
 *       ours), layer_norm_eps 1e-12 (our BERT's fixed eps), position_embedding_type {@code absolute}. A key
 *       the file lacks takes Hugging Face's {@code BertConfig} default (Bio_ClinicalBERT's config has no
 *       layer_norm_eps). All mismatches go into one {@link IllegalArgumentException}.</li>
 *   <li><b>max_position_embeddings</b> may be larger than the encoder's position table: the first rows are
 *       kept. They are the only ones a sequence of at most that length uses, so the encoder's outputs stay
 *       exactly BERT's, and a 512-position Bio_ClinicalBERT serves a {@code text.maxLen} of 64 without
 *       padding every report to 512. A table larger than the file's is an error.</li>
 *   <li><b>Names</b>: BERT's leading {@code bert.} is stripped; {@code bert.pooler.*}, {@code cls.*} and
 *       {@code *.position_ids} buffers are ignored (and reported); legacy {@code LayerNorm.gamma/beta} become
 *       {@code weight/bias} as in Hugging Face's loader. timm's {@code head.*} and {@code fc_norm.*} are
 *       ignored. Any other tensor that no parameter takes is an error, like a parameter the file lacks: a
 *       variant with extra weights (layer scale, relative positions) would otherwise load and compute
 *       something else without a word.</li>
 *   <li><b>Dtypes</b>: {@link Safetensors#read} widens F16 and BF16 to F32 exactly; the load converts to
 *       each parameter's dtype and device.</li>
 *   <li><b>Grayscale</b>: a file's {@code patch_embed.proj.weight (D, C, P, P)} becomes (D, 1, P, P) for a
 *       1-channel ViT by summing over C (timm's {@code adapt_input_conv} for {@code in_chans=1}): the
 *       adapted model gives on a gray image what the original gives on that image replicated to C channels.</li>
 *   <li><b>Position grid</b>: when the file's grid differs from the model's (224 px weights into a 96 px
 *       model), the patch rows of {@code pos_embed} are resampled <i>bilinearly</i>
 *       ({@code F.interpolate(mode="bilinear", align_corners=False)} without antialias, see
 *       {@link #resamplePosEmbed}); timm uses bicubic, which weighs 4x4 neighbours instead of 2x2 and
 *       differs slightly. The CLS row is kept as it is.</li>
 * </ul>
 */
public final class PretrainedWeights {
    private PretrainedWeights() {
    }

    /** Our BERT's LayerNorm eps (fixed in {@link TextTransformer}, as Hugging Face's default). */
    static final double BERT_LAYER_NORM_EPS = 1e-12;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What a load did.
     *
     * @param file    the safetensors file read
     * @param loaded  our parameter names, all of the module's
     * @param ignored file tensors deliberately not loaded (pooler, MLM head, buffers, classifier)
     * @param adapted what was changed on the way in (channel sum, resampling, truncation, renames)
     */
    public record Report(Path file, List<String> loaded, List<String> ignored, List<String> adapted) {
        /** One line for logs. */
        public String summary() {
            StringBuilder sb = new StringBuilder(file + ": loaded " + loaded.size() + " tensors");
            sb.append("; ignored ").append(ignored.size()).append(ignored.isEmpty() ? "" : ": " + String.join(", ", ignored));
            if (!adapted.isEmpty()) sb.append("; adapted: ").append(String.join("; ", adapted));
            return sb.toString();
        }
    }

    // ---------------------------------------------------------------- BERT

    /**
     * Loads a Hugging Face BERT directory into {@code text}. {@code heads} is the encoder's head count
     * (the module does not expose it, and the weights' shapes cannot show it).
     *
     * @throws IllegalArgumentException on a config mismatch, a missing parameter, an unexpected tensor or a shape mismatch; nothing is assigned then
     * @throws UncheckedIOException     when a file cannot be read
     */
    public static Report loadBert(TextTransformer text, int heads, Path dir) {
        Path weights = dir.resolve("model.safetensors");
        checkBertConfig(text, heads, dir.resolve("config.json"));
        Map<String, Variable> params = text.namedParameters();
        Map<String, Tensor> mapped = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();   // our name -> the file's
        List<String> ignored = new ArrayList<>(), adapted = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : read(weights).entrySet()) {
            String k = e.getKey();
            if (k.endsWith(".position_ids") || k.startsWith("cls.") || k.startsWith("bert.pooler.") || k.startsWith("pooler.")) {
                ignored.add(k);
                continue;
            }
            String n = k.startsWith("bert.") ? k.substring("bert.".length()) : k;
            if (n.endsWith("LayerNorm.gamma") || n.endsWith("LayerNorm.beta")) {   // TF-converted checkpoints
                String renamed = n.substring(0, n.lastIndexOf('.')) + (n.endsWith("gamma") ? ".weight" : ".bias");
                adapted.add("renamed " + k + " to " + renamed);
                n = renamed;
            }
            put(weights, mapped, origin, n, k, e.getValue());
        }
        String posKey = "embeddings.position_embeddings.weight";
        Tensor pos = mapped.get(posKey);
        int rows = text.positionEmbeddings.weight.size(0);
        if (pos != null && pos.ndim() == 2 && pos.size(0) > rows) {
            mapped.put(posKey, pos.narrow(0, 0, rows).contiguous());
            adapted.add(origin.get(posKey) + ": kept the first " + rows + " of " + pos.size(0) + " positions");
        }
        return assign(weights, params, mapped, origin, ignored, adapted);
    }

    /** {@code do_lower_case} from the directory's {@code tokenizer_config.json}, or {@code fallback} when the file or the key is absent. */
    public static boolean bertLowercase(Path dir, boolean fallback) {
        Path f = dir.resolve("tokenizer_config.json");
        if (!Files.exists(f)) return fallback;
        JsonNode v = readJson(f).get("do_lower_case");
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw new IllegalArgumentException(f + ": do_lower_case must be true or false, got " + v);
        return v.booleanValue();
    }

    /** Throws one {@link IllegalArgumentException} naming the file and, per mismatching key, both values. */
    static void checkBertConfig(TextTransformer text, int heads, Path config) {
        JsonNode c = readJson(config);
        Map<String, Variable> p = text.namedParameters();
        int layers = text.layers.size();
        List<String> bad = new ArrayList<>();
        // Defaults are Hugging Face's BertConfig's, for keys an old config.json leaves out.
        intKey(c, "hidden_size", 768, text.wordEmbeddings.weight.size(1), bad);
        intKey(c, "num_hidden_layers", 12, layers, bad);
        intKey(c, "num_attention_heads", 12, heads, bad);
        if (layers > 0) intKey(c, "intermediate_size", 3072, p.get("encoder.layer.0.intermediate.dense.weight").size(0), bad);
        intKey(c, "vocab_size", 30522, text.wordEmbeddings.weight.size(0), bad);
        intKey(c, "type_vocab_size", 2, text.tokenTypeEmbeddings.weight.size(0), bad);
        int ours = text.positionEmbeddings.weight.size(0);
        Integer filePos = intValue(c, "max_position_embeddings", 512, bad);
        if (filePos != null && filePos < ours) {
            bad.add("max_position_embeddings is " + filePos + " in the file, " + ours + " in the encoder (the encoder's table may be smaller, not larger)");
        }
        stringKey(c, "hidden_act", "gelu", "gelu", bad);
        stringKey(c, "position_embedding_type", "absolute", "absolute", bad);
        JsonNode eps = c.get("layer_norm_eps");
        if (eps != null && (!eps.isNumber() || Math.abs(eps.doubleValue() - BERT_LAYER_NORM_EPS) > 1e-6 * BERT_LAYER_NORM_EPS)) {
            bad.add("layer_norm_eps is " + eps + " in the file, " + BERT_LAYER_NORM_EPS + " in the encoder");
        }
        if (!bad.isEmpty()) throw new IllegalArgumentException(config + " does not match the encoder: " + String.join("; ", bad));
    }

    private static void intKey(JsonNode c, String key, int dflt, int ours, List<String> bad) {
        Integer v = intValue(c, key, dflt, bad);
        if (v != null && v != ours) bad.add(key + " is " + v + " in the file, " + ours + " in the encoder");
    }

    /** The key's integer value, its default when absent, or null (with a complaint) when not an integer. */
    private static Integer intValue(JsonNode c, String key, int dflt, List<String> bad) {
        JsonNode v = c.get(key);
        if (v == null) return dflt;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            bad.add(key + " is " + v + " in the file, not an integer");
            return null;
        }
        return v.intValue();
    }

    private static void stringKey(JsonNode c, String key, String dflt, String ours, List<String> bad) {
        JsonNode v = c.get(key);
        String s = v == null ? dflt : v.isTextual() ? v.textValue() : v.toString();
        if (!s.equals(ours)) bad.add(key + " is \"" + s + "\" in the file, \"" + ours + "\" in the encoder");
    }

    // ---------------------------------------------------------------- ViT

    /**
     * Loads a timm ViT {@code model.safetensors} into {@code vit}, adapting the patch embedding to the
     * model's channels and the position grid to its image size (see the class notes).
     *
     * @throws IllegalArgumentException on a missing parameter, an unexpected tensor, a shape that cannot be adapted; nothing is assigned then
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static Report loadTimmVit(VisionTransformer vit, Path file) {
        Map<String, Tensor> mapped = new LinkedHashMap<>();
        Map<String, String> origin = new LinkedHashMap<>();
        List<String> ignored = new ArrayList<>(), adapted = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : read(file).entrySet()) {
            String k = e.getKey();
            if (k.startsWith("head.") || k.startsWith("fc_norm.")) ignored.add(k);
            else put(file, mapped, origin, k, k, e.getValue());
        }
        Tensor w = mapped.get("patch_embed.proj.weight");                                     // (D, C, P, P)
        if (w != null && w.ndim() == 4 && w.size(1) != vit.channels) {
            if (vit.channels != 1) {
                throw new IllegalArgumentException(file + ": patch_embed.proj.weight " + Shape.str(w.shape()) + " has " + w.size(1)
                        + " input channels, the model " + vit.channels + " (only C -> 1, by summing over the channels, is adapted)");
            }
            mapped.put("patch_embed.proj.weight", w.sum(1, true));                            // (D, 1, P, P)
            adapted.add("patch_embed.proj.weight " + Shape.str(w.shape()) + " summed over its " + w.size(1) + " input channels (timm's adapt_input_conv)");
        }
        Tensor pe = mapped.get("pos_embed");                                                  // (1, 1 + G*G, D)
        int grid = vit.imageSize / vit.patch;
        if (pe != null && pe.ndim() == 3 && pe.size(0) == 1 && pe.size(2) == vit.dim && pe.size(1) != 1 + grid * grid) {
            Tensor r = resamplePosEmbed(pe, grid);
            adapted.add("pos_embed " + Shape.str(pe.shape()) + " resampled bilinearly to a " + grid + "x" + grid + " grid " + Shape.str(r.shape()));
            mapped.put("pos_embed", r);
        }
        return assign(file, vit.namedParameters(), mapped, origin, ignored, adapted);
    }

    /**
     * {@code posEmbed (1, 1 + G*G, D)} with its G x G patch rows (row-major) resampled to {@code grid} x
     * {@code grid}; the CLS row (row 0) is kept. Bilinear with half-pixel centres, as PyTorch's
     * {@code F.interpolate(mode="bilinear", align_corners=False, antialias=False)}: output cell i reads the
     * source at {@code (i + 0.5) * G / grid - 0.5}, clamped at 0, between its two neighbours. The same grid
     * gives the input back exactly.
     *
     * <pre>{@code
     * Tensor pe = PretrainedWeights.resamplePosEmbed(vitB16.posEmbed.value(), 6);   // (1, 197, 768) -> (1, 37, 768)
     * }</pre>
     */
    public static Tensor resamplePosEmbed(Tensor posEmbed, int grid) {
        if (posEmbed.ndim() != 3 || posEmbed.size(0) != 1) throw new IllegalArgumentException("resamplePosEmbed: expects (1, 1 + G*G, D), got " + Shape.str(posEmbed.shape()));
        if (grid < 1) throw new IllegalArgumentException("resamplePosEmbed: grid must be >= 1, got " + grid);
        int n = posEmbed.size(1) - 1, d = posEmbed.size(2);
        int g = (int) Math.round(Math.sqrt(n));
        if (g * g != n) throw new IllegalArgumentException("resamplePosEmbed: " + n + " patch positions in " + Shape.str(posEmbed.shape()) + " are not a square grid");
        float[] src = posEmbed.contiguous().toFloatArray(), out = new float[(1 + grid * grid) * d];
        System.arraycopy(src, 0, out, 0, d);                                                  // CLS row as it is
        int[] lo = new int[grid], hi = new int[grid];
        double[] frac = new double[grid];
        double scale = (double) g / grid;
        for (int i = 0; i < grid; i++) {
            double s = Math.max(0, (i + 0.5) * scale - 0.5);
            lo[i] = (int) s;
            hi[i] = Math.min(lo[i] + 1, g - 1);
            frac[i] = s - lo[i];
        }
        for (int y = 0; y < grid; y++) {
            for (int x = 0; x < grid; x++) {
                int a = 1 + lo[y] * g + lo[x], b = 1 + lo[y] * g + hi[x], c = 1 + hi[y] * g + lo[x], e = 1 + hi[y] * g + hi[x];
                double fy = frac[y], fx = frac[x];
                int o = (1 + y * grid + x) * d;
                for (int k = 0; k < d; k++) {
                    double top = (1 - fx) * src[a * d + k] + fx * src[b * d + k];
                    double bottom = (1 - fx) * src[c * d + k] + fx * src[e * d + k];
                    out[o + k] = (float) ((1 - fy) * top + fy * bottom);
                }
            }
        }
        return Tensor.of(out, 1, 1 + grid * grid, d);
    }

    // ---------------------------------------------------------------- shared

    private static void put(Path file, Map<String, Tensor> mapped, Map<String, String> origin, String name, String fileKey, Tensor t) {
        if (mapped.put(name, t) != null) {
            throw new IllegalArgumentException(file + ": tensors " + origin.get(name) + " and " + fileKey + " both map to parameter " + name);
        }
        origin.put(name, fileKey);
    }

    /** Every parameter must be found and every kept tensor must be a parameter; then the strict, all-or-nothing load. */
    private static Report assign(Path file, Map<String, Variable> params, Map<String, Tensor> mapped, Map<String, String> origin,
                                 List<String> ignored, List<String> adapted) {
        List<String> missing = params.keySet().stream().filter(k -> !mapped.containsKey(k)).toList();
        List<String> unexpected = mapped.keySet().stream().filter(k -> !params.containsKey(k)).map(origin::get).toList();
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            StringBuilder sb = new StringBuilder(file + ": does not fit the encoder");
            if (!missing.isEmpty()) sb.append("; ").append(missing.size()).append(" parameter(s) not in the file: ").append(String.join(", ", missing));
            if (!unexpected.isEmpty()) {
                sb.append("; ").append(unexpected.size()).append(" tensor(s) in the file that no parameter takes (and no ignore rule covers): ").append(String.join(", ", unexpected));
            }
            throw new IllegalArgumentException(sb.toString());
        }
        try {
            StateDicts.load(params, mapped, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        return new Report(file, List.copyOf(params.keySet()), List.copyOf(ignored), List.copyOf(adapted));
    }

    private static LinkedHashMap<String, Tensor> read(Path file) {
        try {
            return Safetensors.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
