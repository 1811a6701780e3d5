package mlip.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import mlip.data.Csv;
import mlip.eval.EvalSuite;
import mlip.eval.Reproduction;
import mlip.model.MlipConfig;
import mlip.tensor.Device;
import mlip.train.Pretrain;
import mlip.train.Pretrained;
import mlip.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mlip reproduce}: the paper's setting end to end. Pretrains the {@code paper-vitb16} recipe on MIMIC-CXR-JPG
 * (optionally from Bio_ClinicalBERT and timm ViT-B/16 weights), then runs every evaluation the field reports on the
 * data sets given ({@link Reproduction}), and writes {@code OUT/eval.json} and {@code OUT/report.md} with the
 * paper-style tables. A data set left out is left out of the tables. {@code --max-steps} and {@code --subset} make a
 * smoke run of minutes:
 *
 * <pre>
 *   bin/mlip reproduce --mimic /data/mimic-cxr-jpg --chexpert /data/CheXpert-v1.0-small --rsna /data/rsna \
 *       --siim /data/siim --covidx /data/covidx --bert /models/Bio_ClinicalBERT --vit /models/vit_base_patch16_224/model.safetensors \
 *       --out runs/paper --device cuda
 * </pre>
 *
 * A finished pretraining run is not repeated: the command continues from {@code OUT/pretrain}'s latest checkpoint.
 */
@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = "Pretrain the paper-vitb16 recipe on MIMIC-CXR-JPG, then run the field's evaluations on CheXpert, RSNA, SIIM and COVIDx; write a report.")
public final class ReproduceCommand implements Callable<Integer>, MlipSubcommand {

    @Option(names = "--mimic", required = true, description = "MIMIC-CXR-JPG root (split/metadata/chexpert CSVs, files/, reports).")
    Path mimic;

    @Option(names = "--chexpert", description = "CheXpert root (train.csv, valid.csv): 5x200 zero-shot and the linear probe.")
    Path chexpert;

    @Option(names = "--rsna", description = "RSNA Pneumonia root (stage_2_train_labels.csv, stage_2_train_images/): zero-shot, probe, segmentation.")
    Path rsna;

    @Option(names = "--siim", description = "SIIM-ACR Pneumothorax root (train-rle.csv, dicom-images-train/): zero-shot, segmentation.")
    Path siim;

    @Option(names = "--covidx", description = "COVIDx root (train.txt, test.txt, train/, test/): the linear probe.")
    Path covidx;

    @Option(names = "--out", defaultValue = "runs/paper", description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--config", defaultValue = "paper-vitb16", description = "Preset or config file. Default: ${DEFAULT-VALUE}.")
    String config;

    @Option(names = "--bert", description = "A Hugging Face BERT directory (e.g. Bio_ClinicalBERT) to start the text encoder from (sets text.pretrained).")
    String bert;

    @Option(names = "--vit", description = "A timm ViT model.safetensors (e.g. vit_base_patch16_224) to start the image encoder from (sets vision.pretrained).")
    String vit;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda[:i] or cuda-emu. Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--max-steps", description = "Pretrain for at most this many steps (a smoke run).")
    Integer maxSteps;

    @Option(names = "--subset", defaultValue = "0", description = "At most this many pretraining studies and images per evaluation split (0: all).")
    int subset;

    @Option(names = "--per-class", defaultValue = "200", description = "Images per class of the CheXpert 5xN zero-shot split. Default: ${DEFAULT-VALUE}.")
    int perClass;

    @Option(names = "--seeds", defaultValue = "3", description = "Draws per label fraction below 100%. Default: ${DEFAULT-VALUE}.")
    int seeds;

    @Override
    public Integer call() throws IOException {
        long t0 = System.nanoTime();
        MlipConfig cfg = MlipConfig.load(config);
        if (maxSteps != null) cfg.optim.withSteps(Math.min(maxSteps, cfg.optim.steps));
        if (subset > 0) cfg.data.maxStudies = subset;
        if (bert != null) cfg.text.pretrained = bert;
        if (vit != null) cfg.vision.pretrained = vit;
        cfg.validate();
        for (Path p : new Path[]{mimic, chexpert, rsna, siim, covidx}) {
            if (p != null && !Files.isDirectory(p)) throw new IllegalArgumentException(p + " is not a directory");
        }
        Path run = out.resolve("pretrain");
        Pretrain.Run r = Pretrain.prepare(cfg, mimic, run, true, Device.parse(device));
        if (r.resumed()) System.err.println("reproduce: continuing " + run + " from step " + r.trainer().step());
        Trainer.Result res = r.trainer().run();
        System.out.printf("pretrain %s steps=%d time=%.0f s%n", cfg.name, r.trainer().step(), res.seconds());

        Pretrained p = Pretrained.load(run);
        p.model().train(false);
        Reproduction.Options o = Reproduction.Options.defaults().withSize(cfg.vision.imageSize).withSubset(subset).withPerClass(perClass).withSeeds(seeds);
        Map<String, Map<String, EvalSuite.Spread>> results = new LinkedHashMap<>();
        if (chexpert != null) results.put("CheXpert", Reproduction.chexpert(p, chexpert, o));
        if (rsna != null) results.put("RSNA", Reproduction.rsna(p, rsna, o));
        if (siim != null) results.put("SIIM", Reproduction.siim(p, siim, o));
        if (covidx != null) results.put("COVIDx", Reproduction.covidx(p, covidx, o));
        results.forEach((set, m) -> m.forEach((k, v) -> System.out.printf("%s %s=%s%n", set.toLowerCase(), k.replace(' ', '_'), v)));
        write(results, cfg, r.trainer().step());
        System.out.println("report " + out.resolve("report.md"));
        System.out.printf("reproduce done in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private void write(Map<String, Map<String, EvalSuite.Spread>> results, MlipConfig cfg, long steps) throws IOException {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("config", cfg.name).put("steps", steps).put("subset", subset);
        results.forEach((set, m) -> {
            ObjectNode s = root.putObject(set);
            m.forEach((k, v) -> s.putObject(k).put("mean", v.mean()).put("std", v.std()).put("n", v.n()));
        });
        Files.createDirectories(out);
        Csv.writeAtomically(out.resolve("eval.json"), root.toPrettyString());
        Csv.writeAtomically(out.resolve("report.md"), report(results, cfg, steps));
    }

    /** The paper-style tables: zero-shot, linear probe at 1/10/100%, segmentation at 1/10/100%. */
    static String report(Map<String, Map<String, EvalSuite.Spread>> results, MlipConfig cfg, long steps) {
        StringBuilder md = new StringBuilder("# MLIP reproduction\n\n");
        md.append(String.format("Config `%s`, %d pretraining steps. Mean (± std over the seeds) per cell; empty: not run.%n%n", cfg.name, steps));
        md.append("## Zero-shot classification\n\n| data set | ACC | F1 | AUC |\n|---|---|---|---|\n");
        for (String set : List.of("CheXpert", "RSNA", "SIIM")) {
            md.append("| ").append(set).append(set.equals("CheXpert") ? " 5x200" : "").append(" | ")
                    .append(cell(results, set, "zeroshot acc")).append(" | ").append(cell(results, set, "zeroshot f1")).append(" | ")
                    .append(cell(results, set, "zeroshot auc")).append(" |\n");
        }
        List<String> f = Arrays.asList("1%", "10%", "100%");
        md.append("\n## Linear probe (frozen image encoder)\n\n| data set | metric | 1% | 10% | 100% |\n|---|---|---|---|---|\n");
        for (String[] row : new String[][]{{"CheXpert", "auc"}, {"RSNA", "auc"}, {"COVIDx", "acc"}, {"COVIDx", "auc"}}) {
            md.append("| ").append(row[0]).append(" | ").append(row[1].toUpperCase()).append(" |");
            for (String fr : f) md.append(' ').append(cell(results, row[0], "probe " + row[1] + " " + fr)).append(" |");
            md.append('\n');
        }
        md.append("\n## Semantic segmentation (frozen encoder, light decoder)\n\n| data set | metric | 1% | 10% | 100% |\n|---|---|---|---|---|\n");
        for (String set : List.of("SIIM", "RSNA")) {
            md.append("| ").append(set).append(" | Dice |");
            for (String fr : f) md.append(' ').append(cell(results, set, "segment dice " + fr)).append(" |");
            md.append('\n');
        }
        return md.toString();
    }

    private static String cell(Map<String, Map<String, EvalSuite.Spread>> results, String set, String key) {
        EvalSuite.Spread s = results.getOrDefault(set, Map.of()).get(key);
        if (s == null || Double.isNaN(s.mean())) return "";
        return s.n() > 1 ? String.format("%.3f ± %.3f", s.mean(), s.std()) : String.format("%.3f", s.mean());
    }
}
