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
        for (MlipSubcommand sub : ServiceLoader.load(MlipSubcommand.class)) {
            cl.addSubcommand(sub);
        }
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
