package mlip.cli;

import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/mlip}: the command-line entry point. Subcommands come from this module and, through
 * {@link MlipSubcommand}, from the modules above it (e.g. {@code mlip bench gemm}).
 */
@Command(name = "mlip", mixinStandardHelpOptions = true, version = "mlip 0.1.0",
        description = "Medical Language-Image Pre-training in pure Java.")
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line with every registered subcommand. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        // A bad config, a missing file or a diverged run is the user's to fix: print its message, not a
        // stack trace from deep inside (-Dmlip.stacktrace=true shows the trace as well).
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            boolean user = e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException
                    || e instanceof mlip.data.DataFileException || e instanceof mlip.train.Trainer.Diverged;
            if (!user || Boolean.getBoolean("mlip.stacktrace")) throw e;
            var cmds = parsed.asCommandLineList();
            line.getErr().println(cmds.get(cmds.size() - 1).getCommandName() + ": " + e.getMessage());
            return 1;
        });
        for (MlipSubcommand sub : ServiceLoader.load(MlipSubcommand.class)) {
            cl.addSubcommand(sub);
        }
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
