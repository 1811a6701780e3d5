package mlip.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.eval.EvalData;
import mlip.eval.EvalSuite;
import mlip.eval.Grounding;
import mlip.eval.StudyPictures;
import mlip.eval.ZeroShot;
import mlip.data.Chexpert5x200;
import mlip.data.SynthAnnotations;
import mlip.train.Pretrained;
import mlip.viz.ConfusionPicture;
import mlip.viz.Curves;
import mlip.viz.Heatmap;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;

/*
 * Design note — one evaluation per run, one report per working directory. Each `bin/mlip demo` evaluates the
 * model it trained and stores the figures in <run>/eval.json (with its pictures in <run>/pictures/); the
 * report is then rebuilt from every run in the directory that has an eval.json, so `bin/mlip demo` and
 * `bin/mlip demo --ablate local,mask,mim` end up side by side in one runs/demo/report.md whichever ran last.
 */

/**
 * The demo's full evaluation of a run and the side-by-side report (Markdown and an HTML copy).
 *
 * <pre>{@code
 * DemoReport.evaluate(Pretrained.load(run), evalData, data);   // writes run/eval.json and run/pictures/
 * Path md = DemoReport.write(Path.of("runs/demo"));            // runs/demo/report.md + report.html
 * }</pre>
 */
public final class DemoReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final double[] FRACTIONS = {0.01, 0.1, 1.0};

    private DemoReport() {
    }

    /** Runs every evaluation on {@code p}, writes {@code eval.json}, its pictures and curves into the run directory. */
    public static ObjectNode evaluate(Pretrained p, EvalData d, Path dataRoot, int probeSeeds, int segmentSeeds) {
        ObjectNode o = JSON.createObjectNode();
        o.put("run", p.run().getFileName().toString());
        o.put("steps", p.step());
        o.put("ablate", String.join(",", ablated(p)));
        ObjectNode zs = o.putObject("zeroshot");
        for (Map.Entry<String, ZeroShot.Result> e : EvalSuite.zeroShot(p, d).entrySet()) {
            ZeroShot.Result r = e.getValue();
            ObjectNode z = zs.putObject(e.getKey());
            z.put("acc", r.accuracy()).put("f1", r.macroF1()).put("auc", r.macroAuc());
            var per = z.putArray("auc_per_class");
            for (double a : r.aucPerClass()) per.add(a);
            if (e.getKey().equals("ensemble/global")) {
                Path png = p.run().resolve("pictures/confusion.png");
                Heatmap.write(ConfusionPicture.of(r.confusion(), Chexpert5x200.CLASSES, "zero-shot, " + o.get("run").asText()), png);
            }
        }
        var bin = o.putArray("binary");
        for (EvalSuite.Binary b : EvalSuite.binary(p, d)) {
            bin.addObject().put("task", b.task()).put("auc", b.auc()).put("f1", b.f1()).put("acc", b.accuracy()).put("positives", b.positives())
                    .put("negatives", b.negatives());
        }
        System.err.println("eval: zero-shot done");
        EvalSuite.States states = EvalSuite.States.of(p, d);                           // one encoder pass for probe and segmentation
        few(o.putArray("probe"), EvalSuite.probe(d, states, FRACTIONS, probeSeeds));
        System.err.println("eval: linear probe done");
        few(o.putArray("segment"), EvalSuite.segment(d, states, p.cfg().vision.patch, FRACTIONS, segmentSeeds));
        System.err.println("eval: segmentation done");
        ObjectNode ret = o.putObject("retrieval");
        EvalSuite.retrieve(p, d).forEach(ret::put);
        Grounding.Result g = EvalSuite.ground(p, d);
        ObjectNode gr = o.putObject("grounding");
        gr.put("chance", g.chance());
        gr.put("prior", g.prior());
        for (var kind : List.of(Map.entry("cosine", g.cosine()), Map.entry("ot", g.ot()))) {
            ObjectNode k = gr.putObject(kind.getKey());
            k.put("pointing", kind.getValue().pointing()).put("top5", kind.getValue().top5());
            ObjectNode f = k.putObject("findings");
            kind.getValue().findings().forEach((name, s) -> f.putObject(name).put("pointing", s.pointing()).put("top5", s.top5()).put("n", s.n()));
        }
        var pics = o.putArray("pictures");
        for (Path png : pictures(p, dataRoot)) pics.add(p.run().relativize(png).toString());
        Path metrics = p.run().resolve("metrics.jsonl");
        if (Files.exists(metrics)) Curves.fromMetricsJsonl(metrics, p.run().resolve("pictures/curves.png"));
        writeAtomically(p.run().resolve("eval.json"), o.toPrettyString());
        return o;
    }

    /** Heatmaps of the first evaluation study of three findings that show their place well. */
    static List<Path> pictures(Pretrained p, Path dataRoot) {
        SynthAnnotations ann = SynthAnnotations.load(dataRoot);
        Chexpert5x200 eval = Chexpert5x200.load(dataRoot.resolve(mlip.data.synth.SynthCxr.EVAL_CSV), dataRoot);
        List<Path> out = new ArrayList<>();
        for (int cls : new int[]{4, 1, 2}) {   // pleural effusion, cardiomegaly, consolidation
            var item = eval.items().stream().filter(i -> i.label() == cls).findFirst();
            if (item.isEmpty() || ann.get(item.get().id()) == null) continue;
            out.addAll(StudyPictures.write(p, ann.get(item.get().id()), p.run().resolve("pictures")));
        }
        return out;
    }

    private static List<String> ablated(Pretrained p) {
        var l = p.cfg().loss;
        List<String> off = new ArrayList<>();
        if (!l.global) off.add("global");
        if (!l.local) off.add("local");
        if (!l.mask) off.add("mask");
        if (!l.mim) off.add("mim");
        return off;
    }

    private static void few(com.fasterxml.jackson.databind.node.ArrayNode into, List<EvalSuite.FewShot> rows) {
        for (EvalSuite.FewShot r : rows) {
            ObjectNode n = into.addObject().put("fraction", r.fraction()).put("n", r.trainSize());
            r.metrics().forEach((k, v) -> n.put(k + "_mean", v.mean()).put(k + "_std", v.std()));
        }
    }

    /** Rebuilds {@code dir/report.md} and {@code dir/report.html} from every {@code dir/<run>/eval.json}. */
    public static Path write(Path dir) {
        Map<String, JsonNode> runs = new LinkedHashMap<>();
        try (var s = Files.list(dir)) {
            for (Path run : s.sorted().toList()) {
                Path ev = run.resolve("eval.json");
                if (Files.exists(ev)) runs.put(run.getFileName().toString(), JSON.readTree(ev.toFile()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        if (runs.isEmpty()) throw new IllegalArgumentException(dir + ": no run has an eval.json yet");
        String md = markdown(runs);
        writeAtomically(dir.resolve("report.md"), md);
        Parser parser = Parser.builder().extensions(List.of(TablesExtension.create())).build();
        String body = HtmlRenderer.builder().extensions(List.of(TablesExtension.create())).build().render(parser.parse(md));
        writeAtomically(dir.resolve("report.html"), "<!doctype html><html><head><meta charset=\"utf-8\"><title>MLIP demo report</title><style>"
                + "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
                + "img{max-width:100%}</style></head><body>\n" + body + "</body></html>\n");
        return dir.resolve("report.md");
    }

    static String markdown(Map<String, JsonNode> runs) {
        StringBuilder md = new StringBuilder("# MLIP demo report\n\n");
        md.append("Runs: ");
        runs.forEach((name, r) -> md.append(String.format("`%s` (%d steps%s) ", name, r.get("steps").asLong(),
                r.get("ablate").asText().isEmpty() ? "" : ", ablated: " + r.get("ablate").asText())));
        md.append("\n\nEvaluation studies: the SynthCXR 5x200 split (200 per class, one finding each). Few-shot trainers draw "
                + "stratified 1% / 10% / 100% subsets of the training split; mean ± standard deviation over seeds.\n\n");

        md.append("## Zero-shot classification\n\nPer-class normalised scores; prompts: `ensemble` = severity x subtype x location "
                + "sentences, `simple` = five plain phrasings, `learned` = UMCL continuous prompts (trained only with the label term). "
                + "Cells: accuracy / macro F1 / macro AUC.\n\n");
        table(md, runs, list((runs.values().iterator().next().get("zeroshot").fieldNames())), (r, k) -> {
            JsonNode z = r.get("zeroshot").get(k);
            return z == null ? "" : String.format("%.3f / %.3f / %.3f", z.get("acc").asDouble(), z.get("f1").asDouble(), z.get("auc").asDouble());
        });
        md.append("Binary tasks on the validation split (a finding against normal studies, as RSNA and SIIM are run; "
                + "score = cos to the finding's prompts - cos to normal prompts). Cells: AUC / F1 / accuracy.\n\n");
        List<String> tasks = new ArrayList<>();
        for (JsonNode b : runs.values().iterator().next().get("binary")) tasks.add(b.get("task").asText() + " (" + b.get("positives").asInt() + "+" + b.get("negatives").asInt() + ")");
        table(md, runs, tasks, (r, k) -> {
            for (JsonNode b : r.get("binary")) {
                if (k.startsWith(b.get("task").asText() + " ")) return String.format("%.3f / %.3f / %.3f", b.get("auc").asDouble(), b.get("f1").asDouble(), b.get("acc").asDouble());
            }
            return "";
        });
        fewTable(md, runs, "Few-shot linear probe (frozen encoder; macro AUC, accuracy)", "probe", List.of("auc", "acc"));
        fewTable(md, runs, "Few-shot segmentation (frozen encoder, light decoder; mean Dice)", "segment", List.of("dice"));
        md.append("## Retrieval (5x200 images against their reports)\n\n");
        table(md, runs, list((runs.values().iterator().next().get("retrieval").fieldNames())),
                (r, k) -> r.get("retrieval").has(k) ? String.format("%.3f", r.get("retrieval").get(k).asDouble()) : "");
        md.append("## Grounding (finding sentences against their masks)\n\nPointing: the best patch lies in the mask. "
                + "Top-5%: the fraction of the best 5% of patches inside the mask.\n\n");
        md.append("Chance: a random patch. Location prior: the best fixed patch per finding, fitted on these studies (an upper "
                + "bound for pointing that ignores the image).\n\n");
        List<String> gRows = new ArrayList<>(List.of("cosine pointing", "cosine top-5%", "OT plan pointing", "OT plan top-5%", "chance", "location prior"));
        table(md, runs, gRows, (r, k) -> {
            JsonNode g = r.get("grounding");
            return String.format("%.3f", switch (k) {
                case "cosine pointing" -> g.get("cosine").get("pointing").asDouble();
                case "cosine top-5%" -> g.get("cosine").get("top5").asDouble();
                case "OT plan pointing" -> g.get("ot").get("pointing").asDouble();
                case "OT plan top-5%" -> g.get("ot").get("top5").asDouble();
                case "location prior" -> g.has("prior") ? g.get("prior").asDouble() : Double.NaN;   // runs evaluated before it existed
                default -> g.get("chance").asDouble();
            });
        });
        md.append("Per finding (cosine pointing):\n\n");
        List<String> names = list((runs.values().iterator().next().get("grounding").get("cosine").get("findings").fieldNames()));
        table(md, runs, names, (r, k) -> {
            JsonNode f = r.get("grounding").get("cosine").get("findings").get(k);
            return f == null ? "" : String.format("%.3f (n=%d)", f.get("pointing").asDouble(), f.get("n").asInt());
        });
        md.append("## Pictures\n\n");
        runs.forEach((name, r) -> {
            md.append("### ").append(name).append("\n\n");
            md.append("![training curves](").append(name).append("/pictures/curves.png)\n");
            md.append("![zero-shot confusion](").append(name).append("/pictures/confusion.png)\n\n");
            for (JsonNode pic : r.get("pictures")) md.append("![").append(pic.asText()).append("](").append(name).append('/').append(pic.asText()).append(")\n\n");
        });
        return md.toString();
    }

    private interface Cell {
        String of(JsonNode run, String row);
    }

    private static void table(StringBuilder md, Map<String, JsonNode> runs, List<String> rows, Cell cell) {
        md.append("| |");
        runs.keySet().forEach(n -> md.append(' ').append(n).append(" |"));
        md.append("\n|---|");
        runs.keySet().forEach(n -> md.append("---|"));
        md.append('\n');
        for (String row : rows) {
            md.append("| ").append(row).append(" |");
            runs.values().forEach(r -> md.append(' ').append(cell.of(r, row)).append(" |"));
            md.append('\n');
        }
        md.append('\n');
    }

    private static void fewTable(StringBuilder md, Map<String, JsonNode> runs, String title, String key, List<String> metrics) {
        md.append("## ").append(title).append("\n\n");
        List<String> rows = new ArrayList<>();
        for (JsonNode r : runs.values().iterator().next().get(key)) {
            for (String m : metrics) rows.add(EvalCommands.pct(r.get("fraction").asDouble()) + "% (n=" + r.get("n").asInt() + ") " + m);
        }
        table(md, runs, rows, (run, row) -> {
            String[] parts = row.split(" ");
            String m = parts[parts.length - 1];
            for (JsonNode r : run.get(key)) {
                if (row.startsWith(EvalCommands.pct(r.get("fraction").asDouble()) + "%")) {
                    return String.format("%.3f ± %.3f", r.get(m + "_mean").asDouble(), r.get(m + "_std").asDouble());
                }
            }
            return "";
        });
    }

    private static <T> List<T> list(java.util.Iterator<T> it) {
        List<T> l = new ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }

    static void writeAtomically(Path file, String text) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }
}
