package mlip.data.synth;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Command-line helper for SynthCXR without the full CLI:
 * <pre>
 * java -cp ... mlip.data.synth.SynthCxrMain write DIR [studies] [size] [seed] [evalPerClass]
 * java -cp ... mlip.data.synth.SynthCxrMain montage OUT.png [count] [size] [seed]
 * java -cp ... mlip.data.synth.SynthCxrMain load DIR [size]     (times MimicCxrJpg.load + readAll)
 * </pre>
 * {@code montage} writes a contact sheet: each study as a pair (image | image with the finding masks
 * outlined in colour), and the reports next to it in {@code OUT.txt}.
 */
public final class SynthCxrMain {

    private SynthCxrMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: SynthCxrMain write DIR [studies] [size] [seed] [evalPerClass] | montage OUT.png [count] [size] [seed]");
            System.exit(2);
        }
        switch (args[0]) {
            case "write" -> {
                SynthCxr.Options o = SynthCxr.Options.defaults();
                if (args.length > 2) {
                    o = o.withStudies(Integer.parseInt(args[2]));
                }
                if (args.length > 3) {
                    o = o.withSize(Integer.parseInt(args[3]));
                }
                if (args.length > 4) {
                    o = o.withSeed(Long.parseLong(args[4]));
                }
                if (args.length > 5) {
                    o = o.withEvalPerClass(Integer.parseInt(args[5]));
                }
                SynthCxr.Summary s = SynthCxr.write(Path.of(args[1]), o);
                System.out.printf(Locale.ROOT, "synthcxr: %d train, %d validate, %d test studies at %d px in %.1f s -> %s%n",
                        s.train(), s.validate(), s.test(), o.size(), s.millis() / 1000.0, s.root());
            }
            case "montage" -> {
                int count = args.length > 2 ? Integer.parseInt(args[2]) : 16;
                int size = args.length > 3 ? Integer.parseInt(args[3]) : 96;
                long seed = args.length > 4 ? Long.parseLong(args[4]) : 42L;
                List<SynthStudy> studies = SynthCxr.generateRange(seed, 0, count, size, SynthCxr.Hardness.DEFAULT);
                Path out = Path.of(args[1]);
                ImageIO.write(montage(studies, 4, 2), "png", out.toFile());
                StringBuilder txt = new StringBuilder();
                for (int i = 0; i < studies.size(); i++) {
                    SynthStudy s = studies.get(i);
                    txt.append(String.format(Locale.ROOT, "[%d] row %d col %d  scanner %d  findings %s%n%s%n", i, i / 4, i % 4,
                            s.scanner(), s.findings(), s.report()));
                }
                String name = out.getFileName().toString().replaceFirst("\\.png$", "") + ".txt";
                Files.writeString(out.resolveSibling(name), txt);
                System.out.println("wrote " + out + " and " + out.resolveSibling(name));
            }
            case "load" -> {
                int size = args.length > 2 ? Integer.parseInt(args[2]) : 96;
                long t0 = System.nanoTime();
                mlip.data.MimicCxrJpg data = mlip.data.MimicCxrJpg.load(Path.of(args[1]));
                long t1 = System.nanoTime();
                List<mlip.data.MimicCxrJpg.Sample> samples = data.readAll(size);
                long t2 = System.nanoTime();
                mlip.data.Chexpert5x200 ev = mlip.data.Chexpert5x200.load(Path.of(args[1]).resolve(SynthCxr.EVAL_CSV));
                mlip.data.SynthAnnotations ann = mlip.data.SynthAnnotations.load(Path.of(args[1]));
                long t3 = System.nanoTime();
                System.out.printf(Locale.ROOT, "load: %d studies indexed in %.2f s, %d images+reports read at %d px in %.2f s, skipped %d;"
                        + " 5x200 %d items + %d annotations in %.2f s%n", data.size(), (t1 - t0) / 1e9, samples.size(), size,
                        (t2 - t1) / 1e9, data.skipped(), ev.items().size(), ann.size(), (t3 - t2) / 1e9);
            }
            default -> {
                System.err.println("unknown command " + args[0]);
                System.exit(2);
            }
        }
    }

    /** Colour of each finding's outline in the montage. */
    private static final int[] COLOURS = {0xff8800, 0xff00ff, 0x00ff00, 0x00ccff, 0xffff00, 0xff0000};

    /**
     * A contact sheet: {@code cols} studies per row, each shown as the image and the image with mask
     * outlines, magnified {@code zoom} times.
     */
    public static BufferedImage montage(List<SynthStudy> studies, int cols, int zoom) {
        int n = studies.get(0).size();
        int cell = n * zoom;
        int rows = (studies.size() + cols - 1) / cols;
        int gap = 4;
        BufferedImage img = new BufferedImage(cols * (2 * cell + gap) + gap, rows * (cell + gap) + gap, BufferedImage.TYPE_INT_RGB);
        for (int k = 0; k < studies.size(); k++) {
            SynthStudy s = studies.get(k);
            int ox = gap + (k % cols) * (2 * cell + gap);
            int oy = gap + (k / cols) * (cell + gap);
            for (int y = 0; y < cell; y++) {
                for (int x = 0; x < cell; x++) {
                    int p = (y / zoom) * n + x / zoom;
                    int g = Math.round(Math.min(1f, Math.max(0f, s.image()[p])) * 255f);
                    int rgb = g << 16 | g << 8 | g;
                    img.setRGB(ox + x, oy + y, rgb);
                    int over = rgb;
                    for (var m : s.masks().entrySet()) {
                        float[] mk = m.getValue();
                        int px = x / zoom;
                        int py = y / zoom;
                        boolean in = mk[p] > 0;
                        boolean edge = in && (px == 0 || py == 0 || px == n - 1 || py == n - 1
                                || mk[p - 1] == 0 || mk[p + 1] == 0 || mk[p - n] == 0 || mk[p + n] == 0);
                        if (edge) {
                            over = COLOURS[m.getKey().ordinal()];
                        }
                    }
                    img.setRGB(ox + cell + x, oy + y, over);
                }
            }
        }
        return img;
    }
}
