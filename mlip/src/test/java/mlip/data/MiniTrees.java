package mlip.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Miniature CheXpert, RSNA Pneumonia, SIIM-ACR and COVIDx trees in their published layouts, small enough for a
 * test to build in a temp dir (the reproduce smoke run). Images are 40 x 32 (not square: the loaders' resize and
 * crop run) with a bright blob where a finding is, so the labels are learnable; every draw is seeded.
 */
public final class MiniTrees {
    private MiniTrees() {
    }

    private static float[] picture(Random r, int w, int h, boolean blob, double cx, double cy) {
        float[] px = new float[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = 0.3 + 0.1 * r.nextGaussian();
                if (blob && Math.hypot(x - cx * w, y - cy * h) < 0.2 * h) v += 0.5;
                px[y * w + x] = (float) Math.max(0, Math.min(1, v));
            }
        }
        return px;
    }

    private static int[] pixels16(float[] px) {
        int[] out = new int[px.length];
        for (int i = 0; i < px.length; i++) out[i] = Math.round(px[i] * 4000);
        return out;
    }

    /** CheXpert: {@code perClass + 3} single-positive frontal training images per 5x200 class, 20 normals, a lateral, 12 valid images. */
    public static Path chexpert(Path dir, int perClass) throws IOException {
        Path root = dir.resolve("CheXpert-v1.0-small");
        Random r = new Random(1);
        String header = "Path,Sex,Age,Frontal/Lateral,AP/PA," + String.join(",", ChexpertLabels.LABELS);
        List<String> train = new ArrayList<>(), valid = new ArrayList<>();
        int patient = 0;
        int classes = Chexpert5x200.CLASSES.size();
        for (int c = -1; c < classes; c++) {
            int n = c < 0 ? 20 : perClass + 3;
            for (int k = 0; k < n; k++) train.add(chexpertRow(root, r, "train", ++patient, c, "Frontal"));
        }
        train.add(chexpertRow(root, r, "train", ++patient, 1, "Lateral"));
        for (int k = 0; k < 12; k++) valid.add(chexpertRow(root, r, "valid", ++patient, k % (classes + 1) - 1, "Frontal"));
        Files.writeString(root.resolve(Chexpert.TRAIN_CSV), header + "\n" + String.join("\n", train) + "\n");
        Files.writeString(root.resolve(Chexpert.VALID_CSV), header + "\n" + String.join("\n", valid) + "\n");
        return root;
    }

    private static String chexpertRow(Path root, Random r, String split, int patient, int cls, String view) throws IOException {
        String rel = String.format("CheXpert-v1.0-small/%s/patient%05d/study1/view1_%s.jpg", split, patient, view.toLowerCase());
        Path file = root.getParent().resolve(rel);
        Files.createDirectories(file.getParent());
        Files.write(file, Images.encodeJpeg(picture(r, 40, 32, cls >= 0, 0.2 + 0.15 * Math.max(0, cls), 0.5), 40, 32, 0.9f));
        String[] labels = new String[ChexpertLabels.COUNT];
        java.util.Arrays.fill(labels, "");
        if (cls < 0) labels[ChexpertLabels.NO_FINDING] = "1.0";
        else labels[ChexpertLabels.index(Chexpert5x200.CLASSES.get(cls))] = "1.0";
        if (r.nextInt(4) == 0) labels[ChexpertLabels.SUPPORT_DEVICES] = "-1.0";     // an uncertain label elsewhere
        return rel + ",Female,60," + view + ",AP," + String.join(",", labels);
    }

    /** RSNA Pneumonia: {@code n} patients, every third with one or two boxes. */
    public static Path rsna(Path dir, int n) throws IOException {
        Path root = dir.resolve("rsna");
        Files.createDirectories(root.resolve(RsnaPneumonia.IMAGES_DIR));
        Random r = new Random(2);
        StringBuilder csv = new StringBuilder("patientId,x,y,width,height,Target\n");
        for (int i = 0; i < n; i++) {
            String id = String.format("p%04d-rsna", i);
            boolean pos = i % 3 == 0;
            TinyDicom.write(root.resolve(RsnaPneumonia.IMAGES_DIR).resolve(id + ".dcm"), 40, 32, 16, pixels16(picture(r, 40, 32, pos, 0.35, 0.5)), "MONOCHROME2");
            if (!pos) csv.append(id).append(",,,,,0\n");
            else {
                csv.append(id).append(",8,10,12,12,1\n");
                if (i % 2 == 0) csv.append(id).append(",24,4,8,10,1\n");
            }
        }
        Files.writeString(root.resolve(RsnaPneumonia.LABELS_CSV), csv.toString());
        return root;
    }

    /** SIIM-ACR: {@code n} images in nested folders, every third with a pneumothorax run-length mask. */
    public static Path siim(Path dir, int n) throws IOException {
        Path root = dir.resolve("siim");
        Random r = new Random(3);
        StringBuilder csv = new StringBuilder("ImageId, EncodedPixels\n");
        for (int i = 0; i < n; i++) {
            String id = "1.2.276.0.7230010.3.1.4." + i;
            Path folder = root.resolve(SiimPneumothorax.IMAGES_DIR).resolve("study" + i).resolve("series" + i);
            Files.createDirectories(folder);
            boolean pos = i % 3 == 0;
            TinyDicom.write(folder.resolve(id + ".dcm"), 40, 32, 16, pixels16(picture(r, 40, 32, pos, 0.25, 0.3)), "MONOCHROME2");
            // column-major, starts relative to the previous run's end: two runs of 6 pixels in columns 8 and 9
            csv.append(id).append(", ").append(pos ? (8 * 32 + 6) + " 6 26 6" : "-1").append('\n');
        }
        Files.writeString(root.resolve(SiimPneumothorax.RLE_CSV), csv.toString());
        return root;
    }

    /** COVIDx: {@code n} training and {@code n / 2} test images over the three classes. */
    public static Path covidx(Path dir, int n) throws IOException {
        Path root = dir.resolve("covidx");
        Random r = new Random(4);
        for (String split : new String[]{"train", "test"}) {
            Files.createDirectories(root.resolve(split));
            StringBuilder txt = new StringBuilder();
            int count = split.equals("train") ? n : n / 2;
            for (int i = 0; i < count; i++) {
                int c = i % Covidx.CLASSES.size();
                String file = split + i + ".png";
                Files.write(root.resolve(split).resolve(file), Images.encodePng(picture(r, 40, 32, c > 0, c == 1 ? 0.3 : 0.7, 0.5), 40, 32));
                txt.append(i).append(' ').append(file).append(' ').append(Covidx.CLASSES.get(c)).append(" mini\n");
            }
            Files.writeString(root.resolve(split + ".txt"), txt.toString());
        }
        return root;
    }
}
