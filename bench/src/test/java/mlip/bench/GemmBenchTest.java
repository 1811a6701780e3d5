package mlip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code mlip bench gemm} through picocli: the check runs and passes, and each case prints one well-formed line. */
class GemmBenchTest {

    private static final Pattern LINE = Pattern.compile(
            "gemm (\\d+)x(\\d+)x(\\d+) project=(\\d+\\.\\d) GFLOP/s openblas=(?:(\\d+\\.\\d) GFLOP/s ratio=(\\d+\\.\\d\\d)|unavailable \\((.+)\\))");

    private static int code;
    private static String out;
    private static String err;

    /** One run shared by the tests below (it takes a second of warm-up). */
    @BeforeAll
    static void runOnce() {
        StringWriter o = new StringWriter(), e = new StringWriter();
        CommandLine cl = new CommandLine(new GemmBench());
        cl.setOut(new PrintWriter(o, true));
        cl.setErr(new PrintWriter(e, true));
        code = cl.execute("--n", "64", "--reps", "3");
        out = o.toString();
        err = e.toString();
    }

    private static Matcher caseLine() {
        List<String> lines = out.lines().filter(l -> l.startsWith("gemm ")).toList();
        assertEquals(1, lines.size(), "expected one case line, got:\n" + out + err);
        Matcher mt = LINE.matcher(lines.get(0));
        assertTrue(mt.matches(), "bad line format: " + lines.get(0));
        return mt;
    }

    @Test
    void ourSideRunsAndPassesTheCheck() {
        assertEquals(0, code, "exit code; output:\n" + out + err);
        assertFalse(out.contains("FAILED"), out);
        assertTrue(out.lines().findFirst().orElse("").startsWith("# gemm: "), "header line: " + out);
        Matcher mt = caseLine();
        assertEquals("64", mt.group(1));
        assertEquals("64", mt.group(2));
        assertEquals("64", mt.group(3));
        // >= 0 only: on a loaded machine a cold JIT can make a 0.5 MFLOP product print as 0.0 GFLOP/s.
        assertTrue(Double.parseDouble(mt.group(4)) >= 0, mt.group(0));
    }

    @Test
    void openBlasSideIsTimedAndCompared() {
        Assumptions.assumeTrue(OpenBlas.isAvailable(), () -> "OpenBLAS part skipped: " + OpenBlas.unavailableReason());
        Matcher mt = caseLine();
        assertTrue(mt.group(5) != null, "no openblas figure: " + mt.group(0));
        double ours = Double.parseDouble(mt.group(4)), theirs = Double.parseDouble(mt.group(5));
        assertTrue(theirs >= 0, mt.group(0));
        if (ours > 1 && theirs > 1) {   // the printed ratio is of unrounded figures: allow the rounding
            assertEquals(ours / theirs, Double.parseDouble(mt.group(6)), 0.01 + 0.1 * ours / theirs / Math.min(ours, theirs), mt.group(0));
        }
    }

    @Test
    void badShapeIsRejectedByName() {
        StringWriter e = new StringWriter();
        CommandLine cl = new CommandLine(new GemmBench());
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(e, true));
        int c = cl.execute("--shape", "12x0x5", "--reps", "1");
        assertNotEquals(0, c);
        assertTrue(e.toString().contains("12x0x5"), e.toString());
        e.getBuffer().setLength(0);
        c = cl.execute("--shape", "banana", "--reps", "1");
        assertNotEquals(0, c);
        assertTrue(e.toString().contains("banana"), e.toString());
    }

    @Test
    void checkCatchesAWrongElement() {
        float[] want = new float[100], got = new float[100];
        for (int i = 0; i < want.length; i++) want[i] = got[i] = (float) Math.sin(i);
        org.junit.jupiter.api.Assertions.assertNull(GemmBench.compare("ref", want, got, 64));
        got[37] += 0.01f;   // > 1e-4 * sqrt(64) + 1e-4 * |ref|
        String msg = GemmBench.compare("ref", want, got, 64);
        assertTrue(msg != null && msg.contains("1 of 100") && msg.contains("at 37"), String.valueOf(msg));
        got[37] = Float.NaN;
        assertTrue(GemmBench.compare("ref", want, got, 64) != null, "NaN must fail the check");
    }

    @Test
    void shapeParses() {
        assertEquals(new GemmBench.Shape(4640, 192, 576), new GemmBench.ShapeConverter().convert("4640x192x576"));
    }
}
