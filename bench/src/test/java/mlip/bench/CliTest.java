package mlip.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import mlip.cli.Main;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The launcher's command tree: {@code bench} arrives through the service file, with its subcommands. */
class CliTest {

    @Test
    void benchIsRegisteredWithItsSubcommands() {
        CommandLine cl = Main.commandLine();
        assertTrue(cl.getSubcommands().containsKey("bench"), "mlip has no 'bench' subcommand: " + cl.getSubcommands().keySet());
        CommandLine bench = cl.getSubcommands().get("bench");
        assertTrue(bench.getSubcommands().keySet().containsAll(java.util.List.of("gemm", "jmh")), bench.getSubcommands().keySet().toString());
    }

    @Test
    void unknownSubcommandFailsWithAMessage() {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("bench", "nope");
        assertEquals(2, code);
        assertTrue(err.toString().contains("nope"), err.toString());
    }
}
