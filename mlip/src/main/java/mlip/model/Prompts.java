package mlip.model;

import java.util.ArrayList;
import java.util.List;
import mlip.tensor.DType;
import mlip.tensor.Tensor;
import mlip.text.WordPieceTokenizer;

/**
 * The classes MLIP knows by name, the text prompts zero-shot classification uses, and UMCL's continuous
 * prompts {@code [CLS] V1..Vn name [SEP]} (DESIGN.md 7.5).
 *
 * <p>Classes are the six SynthCXR findings plus "no finding", in this order; the CheXpert 5x200 classes
 * are the first five. Labels arrive as (B, C) multi-hot rows over {@link #CLASSES}.
 *
 * <pre>{@code
 * Prompts p = Prompts.continuous(tokenizer, 4, 16);      // ids (C, 16) with 4 context slots
 * Tensor q = Prompts.sharedLabelTargets(labels);         // (B, B): 1 where two studies share a label
 * }</pre>
 */
public record Prompts(Tensor ids, Tensor attentionMask) {
    /** These prompts on {@code device}. */
    public Prompts to(mlip.tensor.Device device) {
        return new Prompts(ids.to(device), attentionMask.to(device));
    }

    /** Class names as reports write them. */
    public static final List<String> CLASSES = List.of("atelectasis", "cardiomegaly", "consolidation", "edema", "pleural effusion",
            "pneumothorax", "no finding");
    /** The CheXpert label column of each class. */
    public static final List<String> CHEXPERT = List.of("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion",
            "Pneumothorax", "No Finding");
    /** The CheXpert 5x200 classes: the first five. */
    public static final int EVAL_CLASSES = 5;

    /** The prompt ensembles zero-shot classification uses by default: {@link #ensembles}(10, 0). */
    public static List<List<String>> templates() {
        return ensembles(10, 0);
    }

    /** Five plain phrasings per class ("There is X.", "Mild X.", ...): the short ensemble, for comparison. */
    public static List<List<String>> simple() {
        List<List<String>> out = new ArrayList<>();
        for (String c : CLASSES.subList(0, EVAL_CLASSES)) {
            out.add(List.of("There is " + c + ".", "Mild " + c + ".", "Moderate " + c + ".", "Findings consistent with " + c + ".",
                    "Small " + c + " is present."));
        }
        return out;
    }

    // Severity x subtype x location per CheXpert 5x200 class, as GLoRIA and MedCLIP build their prompts: written
    // the way reports phrase findings, with "" meaning the part is left out.
    private static final String[][][] PARTS = {
        {{"", "minimal", "mild", "subsegmental", "moderate", "extensive"}, {"atelectasis", "plate-like atelectasis", "linear atelectasis", "basilar atelectasis"},
            {"", "at the left base", "at the right base", "at both lung bases"}},
        {{"", "mild", "moderate", "marked", "severe"}, {"cardiomegaly", "enlargement of the cardiac silhouette", "cardiac enlargement"},
            {"", "is present", "is seen"}},
        {{"", "small", "patchy", "focal", "dense", "large"}, {"consolidation", "airspace consolidation"},
            {"", "in the right lower lobe", "in the left lower lobe", "in the right upper lobe", "in the left upper lobe", "in the lung"}},
        {{"", "mild", "moderate", "severe"}, {"pulmonary edema", "interstitial edema", "edema"}, {"", "bilaterally", "with perihilar haziness"}},
        {{"", "small", "moderate", "large"}, {"pleural effusion", "effusion"}, {"", "on the right", "on the left", "bilaterally", "at the costophrenic angle"}},
    };

    /** Prompts for the binary tasks' positive class "pneumothorax" and for "no finding" (the negative class). */
    public static List<String> pneumothorax() {
        List<String> out = new ArrayList<>();
        for (String sev : new String[]{"", "small", "moderate", "large"}) {
            for (String loc : new String[]{"", "on the right", "on the left", "at the apex"}) {
                String t = (sev + " pneumothorax " + loc).trim();
                out.add(Character.toUpperCase(t.charAt(0)) + t.substring(1) + ".");
            }
        }
        return out;
    }

    /** Prompts for RSNA's positive class "pneumonia" (as the reports phrase it: severity x pattern x location). */
    public static List<String> pneumonia() {
        List<String> out = new ArrayList<>();
        for (String sev : new String[]{"", "mild", "extensive"}) {
            for (String what : new String[]{"pneumonia", "opacity consistent with pneumonia", "airspace disease concerning for pneumonia"}) {
                for (String loc : new String[]{"", "in the right lower lobe", "in the left lower lobe"}) {
                    String t = (sev + " " + what + " " + loc).trim().replaceAll(" +", " ");
                    out.add(Character.toUpperCase(t.charAt(0)) + t.substring(1) + ".");
                }
            }
        }
        return out;
    }

    /** "No finding" prompts, the negative class of the binary tasks. */
    public static List<String> normal() {
        return List.of("No acute cardiopulmonary process.", "Normal chest radiograph.", "The lungs are clear.",
                "No acute intrathoracic abnormality.", "Heart size is normal and the lungs are clear.");
    }

    /**
     * Hand-written zero-shot prompt ensembles: for each of the {@link #EVAL_CLASSES} classes, {@code perClass}
     * sentences drawn (without replacement, seeded) from all severity x subtype x location combinations.
     */
    public static List<List<String>> ensembles(int perClass, long seed) {
        List<List<String>> out = new ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (String[][] parts : PARTS) {
            List<String> all = new ArrayList<>();
            for (String sev : parts[0]) for (String sub : parts[1]) for (String loc : parts[2]) {
                String t = (sev + " " + sub + " " + loc).trim().replaceAll(" +", " ");
                all.add(Character.toUpperCase(t.charAt(0)) + t.substring(1) + ".");
            }
            for (int i = all.size() - 1; i > 0; i--) java.util.Collections.swap(all, i, r.nextInt(i + 1));   // Fisher-Yates
            out.add(List.copyOf(all.subList(0, Math.min(perClass, all.size()))));
        }
        return out;
    }

    /** UMCL prompts for every class: {@code [CLS] [MASK]*n name [SEP]}, the masks replaced by learned vectors in the model. */
    public static Prompts continuous(WordPieceTokenizer tok, int context, int maxLen) {
        int c = CLASSES.size();
        int[] ids = new int[c * maxLen], mask = new int[c * maxLen];
        for (int k = 0; k < c; k++) {
            int[] name = tok.encode(CLASSES.get(k));
            int len = Math.min(name.length, maxLen - 2 - context);
            int o = k * maxLen, t = 0;
            ids[o + t++] = tok.clsId();
            for (int i = 0; i < context; i++) ids[o + t++] = tok.maskId();
            for (int i = 0; i < len; i++) ids[o + t++] = name[i];
            ids[o + t++] = tok.sepId();
            for (int i = 0; i < t; i++) mask[o + i] = 1;
            for (int i = t; i < maxLen; i++) ids[o + i] = tok.padId();
        }
        return new Prompts(Tensor.of(ids, c, maxLen), Tensor.of(mask, c, maxLen));
    }

    /** (B, B) 1 where studies i and j share a positive class (or i == j): the multi-positive targets. */
    public static Tensor sharedLabelTargets(Tensor labels) {
        Tensor shared = labels.matmul(labels.transpose(0, 1)).gt(0);                   // (B, B)
        int b = labels.size(0);
        Tensor eye = Tensor.arange(b, labels.device()).unsqueeze(1).eq(Tensor.arange(b, labels.device()).unsqueeze(0)).to(DType.F32);
        return shared.maximum(eye);
    }

    /** Rows of {@code labels} (B, C) normalised to distributions (a row without labels puts its mass on "no finding"). */
    public static Tensor rowTargets(Tensor labels) {
        int b = labels.size(0), c = labels.size(1);
        Tensor none = labels.sum(1, true).eq(0);                                       // (B, 1)
        Tensor last = Tensor.arange(c, labels.device()).eq(c - 1).to(DType.F32).unsqueeze(0);   // (1, C)
        Tensor q = labels.add(none.mul(last));
        return q.div(q.sum(1, true)).reshape(b, c);
    }
}
