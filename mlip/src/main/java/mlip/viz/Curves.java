package mlip.viz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Training curves from a run's {@code metrics.jsonl} (one JSON object per logged step, as
 * {@link mlip.train.Trainer} writes it), drawn with XChart.
 *
 * <pre>{@code
 * // {"step":10,"global":3.51,"local":3.50,"loss":7.02,"lr":1.0e-3,"grad_norm":7.8,"ms":491.9}
 * Curves.fromMetricsJsonl(Path.of("runs/demo/mlip/metrics.jsonl"), Path.of("runs/demo/pictures/loss.png"));
 * Curves.compare(Map.of("mlip", Path.of("runs/demo/mlip/metrics.jsonl"),
 *                       "no-mim", Path.of("runs/demo/ablate-mim/metrics.jsonl")),
 *                "global", Path.of("runs/demo/pictures/global.png"));
 * }</pre>
 *
 * <p>Design note: the loss terms are not a fixed list (a run logs whichever of global, local, mim,
 * label, ... its config enables), so every numeric key except the bookkeeping ones ({@link #NOT_LOSS}:
 * step, lr, grad_norm, ms) is drawn as a loss term, in the order first seen, with the total {@code loss}
 * last. A resumed run may log a step again: the later line wins, and points are drawn in step order.
 * Non-numeric values are not plotted. A malformed line is an error naming the file and line, never skipped.
 * The learning rate gets its own short chart under the losses (its scale is unrelated to theirs).
 */
public final class Curves {
    static {
        Pixels.headless();
    }

    /** Keys that are bookkeeping, not loss terms. */
    public static final Set<String> NOT_LOSS = Set.of("step", "lr", "grad_norm", "ms");
    /** Chart sizes in pixels. */
    public static final int WIDTH = 900, LOSS_HEIGHT = 500, LR_HEIGHT = 220;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Curves() {
    }

    /**
     * The metrics of one run: per key, its steps and values in increasing step order.
     *
     * @param file   the file read
     * @param steps  key -> (P) steps at which the key was logged
     * @param values key -> (P) the values, aligned with {@code steps}
     */
    public record Metrics(Path file, Map<String, double[]> steps, Map<String, double[]> values) {
        /** The loss-term keys: every key except {@link #NOT_LOSS}, in first-seen order, {@code loss} last. */
        public List<String> lossTerms() {
            List<String> terms = new ArrayList<>();
            for (String k : values.keySet()) if (!NOT_LOSS.contains(k) && !k.equals("loss")) terms.add(k);
            if (values.containsKey("loss")) terms.add("loss");
            return terms;
        }
    }

    /**
     * Reads a {@code metrics.jsonl}. Blank lines are skipped.
     *
     * @throws IllegalArgumentException naming the file and 1-based line for a line that is not a JSON object
     *                                  with a numeric {@code step}, or that holds a non-finite number; also
     *                                  for a file without any metrics line
     * @throws UncheckedIOException     naming the file when it cannot be read
     */
    public static Metrics read(Path metricsJsonl) {
        Map<String, TreeMap<Double, Double>> byKey = new LinkedHashMap<>();   // key -> step -> value
        int lineNo = 0, lines = 0;
        try (BufferedReader r = Files.newBufferedReader(metricsJsonl, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw bad(metricsJsonl, lineNo, "not valid JSON (" + e.getOriginalMessage() + "): " + clip(line));
                }
                if (node == null || !node.isObject()) throw bad(metricsJsonl, lineNo, "expected a JSON object, got: " + clip(line));
                JsonNode step = node.get("step");
                if (step == null || !step.isNumber()) throw bad(metricsJsonl, lineNo, "no numeric \"step\": " + clip(line));
                for (Map.Entry<String, JsonNode> f : node.properties()) {
                    if (f.getKey().equals("step") || !f.getValue().isNumber()) continue;
                    double v = f.getValue().asDouble();
                    if (!Double.isFinite(v)) throw bad(metricsJsonl, lineNo, "\"" + f.getKey() + "\" is " + v);
                    byKey.computeIfAbsent(f.getKey(), k -> new TreeMap<>()).put(step.asDouble(), v);
                }
                lines++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(metricsJsonl + ": cannot read metrics: " + e.getMessage(), e);
        }
        if (lines == 0) throw new IllegalArgumentException(metricsJsonl + ": no metrics lines");
        Map<String, double[]> steps = new LinkedHashMap<>(), values = new LinkedHashMap<>();
        byKey.forEach((k, m) -> {
            steps.put(k, m.keySet().stream().mapToDouble(Double::doubleValue).toArray());
            values.put(k, m.values().stream().mapToDouble(Double::doubleValue).toArray());
        });
        return new Metrics(metricsJsonl, steps, values);
    }

    /**
     * Writes one picture of a run: every loss term and the total against step, and, when the run logged
     * {@code lr}, the learning rate in a short chart below.
     *
     * @param metricsJsonl the run's {@code metrics.jsonl}
     * @param png          the PNG to write ({@link Heatmap#write}: atomic, parent directories created)
     * @throws IllegalArgumentException for a malformed line (naming file and line) or a run without loss terms
     */
    public static void fromMetricsJsonl(Path metricsJsonl, Path png) {
        Heatmap.write(picture(read(metricsJsonl)), png);
    }

    /** The picture {@link #fromMetricsJsonl} writes: WIDTH wide, LOSS_HEIGHT (+ LR_HEIGHT with lr) high. */
    public static BufferedImage picture(Metrics m) {
        List<String> terms = m.lossTerms();
        if (terms.isEmpty())
            throw new IllegalArgumentException(m.file() + ": no loss terms (keys: " + m.values().keySet() + ")");
        XYChart loss = chart(WIDTH, LOSS_HEIGHT, "training loss: " + runName(m.file()), "loss");
        for (String k : terms) {
            XYSeries s = line(loss.addSeries(k, m.steps().get(k), m.values().get(k)));
            if (k.equals("loss")) {
                s.setLineColor(Color.BLACK);
                s.setLineStyle(new BasicStroke(2.5f));
            }
        }
        List<BufferedImage> charts = new ArrayList<>();
        charts.add(BitmapEncoder.getBufferedImage(loss));
        if (m.values().containsKey("lr")) {
            XYChart lr = chart(WIDTH, LR_HEIGHT, null, "lr");
            lr.getStyler().setYAxisDecimalPattern("0.0E0");
            lr.getStyler().setLegendVisible(false);
            line(lr.addSeries("lr", m.steps().get("lr"), m.values().get("lr"))).setLineColor(new Color(0x1f77b4));
            charts.add(BitmapEncoder.getBufferedImage(lr));
        }
        return stack(charts);
    }

    /**
     * Writes one key (e.g. {@code "global"}) of several runs against step, one line per run.
     *
     * @param runs legend name -> that run's {@code metrics.jsonl}, drawn in the map's iteration order
     * @param key  the metric to draw
     * @param png  the PNG to write, WIDTH x LOSS_HEIGHT
     * @throws IllegalArgumentException for no runs, a malformed line, or a run that never logged {@code key}
     */
    public static void compare(Map<String, Path> runs, String key, Path png) {
        if (runs == null || runs.isEmpty()) throw new IllegalArgumentException("Curves.compare: no runs");
        XYChart c = chart(WIDTH, LOSS_HEIGHT, key + " by run", key);
        for (Map.Entry<String, Path> e : runs.entrySet()) {
            Metrics m = read(e.getValue());
            if (!m.values().containsKey(key))
                throw new IllegalArgumentException(e.getValue() + ": run '" + e.getKey() + "' has no \"" + key + "\" values (keys: "
                        + m.values().keySet() + ")");
            line(c.addSeries(e.getKey(), m.steps().get(key), m.values().get(key)));
        }
        Heatmap.write(stack(List.of(BitmapEncoder.getBufferedImage(c))), png);
    }

    private static XYChart chart(int w, int h, String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(w).height(h).title(title == null ? "" : title).xAxisTitle("step").yAxisTitle(yTitle).build();
        var st = c.getStyler();
        st.setChartTitleVisible(title != null);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setPlotGridLinesColor(new Color(0xdddddd));
        st.setLegendPosition(Styler.LegendPosition.InsideNE);
        st.setLegendBackgroundColor(new Color(255, 255, 255, 220));
        st.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        st.setXAxisDecimalPattern("#,##0");
        st.setYAxisDecimalPattern("0.###");
        st.setAntiAlias(true);
        return c;
    }

    /** A plain 1.5-pixel line without markers. */
    private static XYSeries line(XYSeries s) {
        s.setMarker(SeriesMarkers.NONE);
        s.setLineStyle(new BasicStroke(1.5f));
        return s;
    }

    /** Charts stacked top to bottom on white, as TYPE_INT_RGB. */
    private static BufferedImage stack(List<BufferedImage> charts) {
        int w = 0, h = 0;
        for (BufferedImage c : charts) {
            w = Math.max(w, c.getWidth());
            h += c.getHeight();
        }
        BufferedImage out = Pixels.white(w, h);
        Graphics2D g = out.createGraphics();
        int y = 0;
        for (BufferedImage c : charts) {
            g.drawImage(c, 0, y, null);
            y += c.getHeight();
        }
        g.dispose();
        return out;
    }

    /** "runs/demo/mlip/metrics.jsonl" -> "mlip" (the run directory's name), else the file name. */
    private static String runName(Path file) {
        Path abs = file.toAbsolutePath(), parent = abs.getParent();
        return parent != null && parent.getFileName() != null ? parent.getFileName().toString() : String.valueOf(abs.getFileName());
    }

    private static IllegalArgumentException bad(Path file, int line, String what) {
        return new IllegalArgumentException(file + " line " + line + ": " + what);
    }

    private static String clip(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}
