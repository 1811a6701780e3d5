package mlip.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Everything a pretraining run is made of: encoders, loss terms (each with a weight and a switch, so
 * every ablation of DESIGN.md section 7 is one flag), optimisation and data. Read from JSON or YAML;
 * named presets live in {@code /mlip/presets/<name>.yaml} on the class path.
 *
 * <pre>{@code
 * MlipConfig c = MlipConfig.load("demo-tiny");          // a preset, or a path to a .json/.yaml file
 * c.ablate("local,mask,mim");                            // the global-only baseline
 * }</pre>
 *
 * <p>Unknown keys are errors (a typo must not silently train the default).
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public final class MlipConfig {
    /** Preset names shipped in the jar. */
    public static final List<String> PRESETS = List.of("demo-tiny", "bench-small", "paper-vitb16");

    public String name = "custom";
    public long seed = 0;

    public Vision vision = new Vision();
    public Text text = new Text();
    public Loss loss = new Loss();
    public Optim optim = new Optim();
    public Data data = new Data();

    public static final class Vision {
        public int imageSize = 96, patch = 12, dim = 128, depth = 4, heads = 4, mlp = 256;
        /**
         * A timm ViT {@code model.safetensors} (e.g. vit_base_patch16_224's: dim 768, depth 12, heads 12,
         * mlp 3072, patch 16) whose weights start a fresh run; null: random initialisation. RGB is summed to
         * gray and the position grid resampled to {@code imageSize} ({@link PretrainedWeights#loadTimmVit}).
         */
        public String pretrained;
    }

    public static final class Text {
        public int vocab = 1024, maxLen = 64, dim = 128, depth = 2, heads = 4, mlp = 256, maxSentences = 8;
        /** A Hugging Face vocab.txt to load; null: train one on the training reports. */
        public String vocabFile;
        public boolean lowercase = true;
        /**
         * A Hugging Face BERT directory ({@code config.json}, {@code model.safetensors}, {@code vocab.txt}, e.g.
         * Bio_ClinicalBERT: dim 768, depth 12, heads 12, mlp 3072) whose weights start a fresh run; null: random
         * initialisation. Without {@code vocabFile} its {@code vocab.txt} is the vocabulary, and
         * {@code do_lower_case} of its {@code tokenizer_config.json}, when there, sets {@code lowercase}.
         * {@code maxLen} may be smaller than its max_position_embeddings ({@link PretrainedWeights#loadBert}).
         */
        public String pretrained;
    }

    public static final class Loss {
        /** Shared embedding dim of the projection heads. */
        public int projDim = 64;
        public double initTemperature = 0.07;
        /**
         * Global embeddings from the CLS tokens ({@code cls}) or from the mean of the token states ({@code mean}).
         * From scratch, CLS starts nearly input-independent (every image and report embeds alike, the
         * contrastive loss sits at log B with vanishing gradients for many steps); the mean carries the
         * input from step 0.
         */
        public String pool = "mean";
        public boolean global = true;
        public double globalWeight = 1.0;
        /** Patch-sentence optimal transport, L_ot (DESIGN.md 7.2). */
        public boolean local = true;
        public double localWeight = 1.0;
        /**
         * Steps over which the OT weight ramps linearly from 0 to localWeight (0: no ramp). Tried on the
         * demo (300 of 1000 steps): the global loss left the log-B plateau sooner, but zero-shot (0.344) and
         * pointing (0.082) both ended lower than without the ramp, so demo-tiny does not use it.
         */
        public int localRampSteps = 0;
        public double otEps = 0.1;
        public int otIterations = 20;
        /** Masked encoding with the semantic-integrity estimator (7.3). */
        public boolean mask = true;
        public double maskRatio = 0.5;
        public double gumbelScale = 1.0;
        /**
         * FLIP's unmasked tuning: the last fraction of the steps encode every patch (no top-k, no estimator
         * weight, no L_mim), so the encoder has met whole images before it is evaluated on them.
         */
        public double unmaskedFraction = 0.0;
        /** Masked image prediction, L_mim (7.4). */
        public boolean mim = true;
        public double mimWeight = 1.0;
        public int decoderDim = 64, decoderDepth = 1, decoderHeads = 4;
        /** UMCL image-text-label contrastive loss with continuous prompts (7.5). */
        public boolean label = false;
        public double labelWeight = 0.5;
        public int promptContext = 4;
    }

    public static final class Optim {
        public int batchSize = 64;
        public int steps = 1000;
        public double lr = 5e-4, minLr = 1e-5, weightDecay = 0.05, beta1 = 0.9, beta2 = 0.98, gradClip = 1.0;
        public int warmupSteps = 100;
        public int checkpointEvery = 250;
        public int logEvery = 10;

        /** Sets the step budget, scaling warmup and checkpoint interval with it (a shorter run keeps their proportions). */
        public Optim withSteps(int n) {
            if (n < 1) throw new IllegalArgumentException("steps must be >= 1, got " + n);
            warmupSteps = (int) Math.round((double) warmupSteps * n / steps);
            checkpointEvery = Math.max(1, (int) Math.round((double) checkpointEvery * n / steps));
            steps = n;
            return this;
        }
    }

    public static final class Data {
        /** SynthCXR size when data is generated. */
        public int synthStudies = 4000;
        public int evalPerClass = 200;
        /** Pretrain on only the first this many studies of the training split (0: all): smoke runs on real data. */
        public int maxStudies = 0;
        /** Pretrain on images whose MIMIC metadata ViewPosition is one of these (e.g. [PA, AP]: frontal); empty: every view. */
        public java.util.List<String> viewPositions = java.util.List.of();
    }

    private static ObjectMapper mapper(boolean yaml) {
        ObjectMapper m = yaml ? new ObjectMapper(new YAMLFactory()) : new ObjectMapper();
        return m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** A preset name ({@link #PRESETS}) or a path to a {@code .json}, {@code .yaml} or {@code .yml} file. */
    public static MlipConfig load(String nameOrPath) {
        if (PRESETS.contains(nameOrPath)) {
            try (InputStream in = MlipConfig.class.getResourceAsStream("/mlip/presets/" + nameOrPath + ".yaml")) {
                if (in == null) throw new IllegalStateException("preset " + nameOrPath + " is missing from the jar");
                MlipConfig c = mapper(true).readValue(in, MlipConfig.class);
                c.name = nameOrPath;
                return c;
            } catch (IOException e) {
                throw new IllegalStateException("preset " + nameOrPath + ": " + e.getMessage(), e);
            }
        }
        Path p = Path.of(nameOrPath);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("config '" + nameOrPath + "': no such file and not a preset (presets: " + String.join(", ", PRESETS) + ")");
        }
        String lower = p.getFileName().toString().toLowerCase(Locale.ROOT);
        try {
            return mapper(lower.endsWith(".yaml") || lower.endsWith(".yml")).readValue(p.toFile(), MlipConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("config " + p + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    /** JSON text of this config (what a checkpoint stores). */
    public String toJson() {
        try {
            return mapper(false).writerWithDefaultPrettyPrinter().writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static MlipConfig fromJson(String json) {
        try {
            return mapper(false).readValue(json, MlipConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("config JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Switches loss terms off by name: {@code local} (OT), {@code mask} (masked encoding), {@code mim},
     * {@code label}, {@code global}. {@code "local,mask,mim"} leaves the global-only CLIP baseline.
     */
    public MlipConfig ablate(String terms) {
        if (terms == null || terms.isBlank()) return this;
        for (String t : terms.split(",")) {
            switch (t.trim().toLowerCase(Locale.ROOT)) {
                case "global" -> loss.global = false;
                case "local", "ot" -> loss.local = false;
                case "mask" -> loss.mask = false;
                case "mim" -> loss.mim = false;
                case "label" -> loss.label = false;
                default -> throw new IllegalArgumentException("--ablate: unknown term '" + t.trim() + "' (known: global, local, mask, mim, label)");
            }
        }
        if (!loss.global && !loss.local && !loss.mim && !loss.label) throw new IllegalArgumentException("--ablate " + terms + " leaves no loss term");
        return this;
    }

    /** Throws naming the first inconsistent setting. */
    public void validate() {
        if (data.maxStudies < 0) throw new IllegalArgumentException("data.maxStudies must be >= 0 (0: all), got " + data.maxStudies);
        if (!loss.pool.equals("mean") && !loss.pool.equals("cls")) throw new IllegalArgumentException("loss.pool must be mean or cls, got '" + loss.pool + "'");
        if (loss.mim && !loss.mask) throw new IllegalArgumentException("loss.mim needs loss.mask (the decoder predicts the patches the encoder did not see); ablate mask,mim together");
        if (vision.imageSize % vision.patch != 0) throw new IllegalArgumentException("vision.imageSize " + vision.imageSize + " is not a multiple of vision.patch " + vision.patch);
        if (loss.maskRatio <= 0 || loss.maskRatio >= 1) throw new IllegalArgumentException("loss.maskRatio must be in (0, 1), got " + loss.maskRatio);
        if (loss.unmaskedFraction < 0 || loss.unmaskedFraction > 1) throw new IllegalArgumentException("loss.unmaskedFraction must be in [0, 1], got " + loss.unmaskedFraction);
        if (text.maxSentences < 1 || text.maxLen < 4) throw new IllegalArgumentException("text.maxSentences must be >= 1 and text.maxLen >= 4");
        if (optim.steps < 1 || optim.warmupSteps < 0 || optim.warmupSteps > optim.steps)
            throw new IllegalArgumentException("optim.warmupSteps " + optim.warmupSteps + " must be in [0, optim.steps " + optim.steps + "]");
        if (loss.initTemperature <= 0) throw new IllegalArgumentException("loss.initTemperature must be > 0, got " + loss.initTemperature);
    }

    /** Patches per image. */
    public int numPatches() {
        int s = vision.imageSize / vision.patch;
        return s * s;
    }

    /** Whether training step {@code step} (0-based) encodes only the top-k patches. */
    public boolean maskedAt(long step) {
        return loss.mask && step < Math.round(optim.steps * (1 - loss.unmaskedFraction));
    }

    /** Patches the encoder sees per image during a masked training step. */
    public int keptPatches() {
        return loss.mask ? Math.max(1, (int) Math.round(numPatches() * (1 - loss.maskRatio))) : numPatches();
    }
}
