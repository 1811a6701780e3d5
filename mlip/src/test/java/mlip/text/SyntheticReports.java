package mlip.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded MIMIC-like reports for tokenizer tests: templated sentences plus made-up names and numbers. */
final class SyntheticReports {
    private static final String[] FINDINGS = {"pleural effusion", "pneumothorax", "consolidation", "atelectasis",
            "pulmonary edema", "cardiomegaly", "opacity", "nodule", "hilar congestion", "interstitial markings"};
    private static final String[] PLACES = {"right lower lobe", "left lower lobe", "right upper lobe", "left apex",
            "right costophrenic angle", "left base", "lingula", "bilateral perihilar regions", "retrocardiac region"};
    private static final String[] SEVERITY = {"small", "moderate", "large", "mild", "minimal", "subtle", "severe"};
    private static final String[] SYLLABLES = {"ka", "lo", "mi", "ren", "tus", "par", "qui", "zen", "vel", "dor",
            "shi", "nax", "bri", "tol", "gum", "fex", "wy", "jo", "ö", "ç"};

    private SyntheticReports() {}

    static List<String> generate(int n, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder f = new StringBuilder("FINDINGS:\n\n");
            int k = 2 + r.nextInt(5);
            for (int s = 0; s < k; s++) {
                switch (r.nextInt(5)) {
                    case 0 -> f.append("No ").append(pick(r, FINDINGS)).append(". ");
                    case 1 -> f.append("There is a ").append(pick(r, SEVERITY)).append(' ').append(pick(r, FINDINGS))
                            .append(" in the ").append(pick(r, PLACES)).append(". ");
                    case 2 -> f.append("A ").append(pick(r, FINDINGS)).append(" measuring ").append(r.nextInt(9) + 1)
                            .append('.').append(r.nextInt(10)).append(" cm is seen in the ").append(pick(r, PLACES)).append(". ");
                    case 3 -> f.append("Compared to the study read by Dr. ").append(name(r))
                            .append(", the ").append(pick(r, FINDINGS)).append(" is unchanged. ");
                    default -> f.append("The ").append(name(r)).append(" catheter terminates in the ")
                            .append(pick(r, PLACES)).append(". ");
                }
            }
            f.append("\n\nIMPRESSION:\n\n").append(Character.toUpperCase(pick(r, SEVERITY).charAt(0)))
                    .append(pick(r, SEVERITY).substring(1)).append(' ').append(pick(r, FINDINGS)).append('.');
            out.add(f.toString());
        }
        return out;
    }

    private static String pick(Random r, String[] a) {
        return a[r.nextInt(a.length)];
    }

    private static String name(Random r) {
        StringBuilder sb = new StringBuilder();
        for (int s = 1 + r.nextInt(3); s > 0; s--) sb.append(pick(r, SYLLABLES));
        return Character.toUpperCase(sb.charAt(0)) + sb.substring(1);
    }
}
