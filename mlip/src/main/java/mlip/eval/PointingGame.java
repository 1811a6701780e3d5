package mlip.eval;

import java.util.List;

/**
 * The pointing game for patch-sentence alignment: for each sentence that describes a finding, the patch
 * whose embedding is most similar to the sentence's must lie inside that finding's mask. A patch lies
 * inside when at least half of its pixels are in the mask. Chance is the mean fraction of patches that
 * lie inside (what a random patch scores).
 *
 * <pre>{@code
 * PointingGame.Result r = PointingGame.evaluate(embedder, studies, 96, 12);
 * System.out.println(r.line("synthcxr"));    // pointing synthcxr acc=0.412 chance=0.083
 * }</pre>
 */
public final class PointingGame {
    private PointingGame() {
    }

    /** One evaluation study: its image, its report's sentences, and the finding sentences with their masks. */
    public record Study(float[] image, List<String> sentences, List<Target> targets) {
    }

    /** Sentence {@code sentence} (index into the report's sentences) describes the finding whose mask (size*size, >0.5 = in) is given. */
    public record Target(int sentence, float[] mask) {
    }

    public record Result(double accuracy, double chance, int sentences) {
        public String line(String dataset) {
            return String.format("pointing %s acc=%.3f chance=%.3f", dataset, accuracy, chance);
        }
    }

    public static Result evaluate(Embedder e, List<Study> studies, int size, int patch) {
        int grid = size / patch, n = grid * grid;
        List<float[]> images = studies.stream().map(Study::image).toList();
        float[][] patches = e.imageOutputs(images, size, true).get(1);           // (S, N*E)
        int hits = 0, total = 0;
        double chance = 0;
        for (int i = 0; i < studies.size(); i++) {
            Study st = studies.get(i);
            float[][] sent = e.sentences(st.sentences());
            int dim = patches[i].length / n;
            for (Target t : st.targets()) {
                if (t.sentence() >= sent.length || sent[t.sentence()] == null) continue; // the sentence did not fit the text length
                boolean[] inside = inside(t.mask(), size, patch);
                int best = 0;
                double bs = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < n; k++) {
                    double s = 0;
                    for (int j = 0; j < dim; j++) s += patches[i][k * dim + j] * sent[t.sentence()][j];
                    if (s > bs) {
                        bs = s;
                        best = k;
                    }
                }
                int in = 0;
                for (boolean b : inside) if (b) in++;
                if (in == 0) continue;                                              // a finding too small for any patch
                chance += (double) in / n;
                if (inside[best]) hits++;
                total++;
            }
        }
        return new Result(total == 0 ? Double.NaN : (double) hits / total, total == 0 ? Double.NaN : chance / total, total);
    }

    /**
     * Per patch (row-major grid): the patch touches the finding (at least one of its pixels has mask > 0.5).
     * The pointing game's rule — the maximum lands on the object — at the map's resolution. A majority rule
     * would drop thin findings (a plate-like atelectasis band is narrower than a patch) from the game.
     */
    static boolean[] inside(float[] mask, int size, int patch) {
        int grid = size / patch;
        boolean[] out = new boolean[grid * grid];
        for (int gy = 0; gy < grid; gy++) {
            for (int gx = 0; gx < grid; gx++) {
                int in = 0;
                for (int y = 0; y < patch; y++) {
                    for (int x = 0; x < patch; x++) if (mask[(gy * patch + y) * size + gx * patch + x] > 0.5f) in++;
                }
                out[gy * grid + gx] = in > 0;
            }
        }
        return out;
    }
}
