package mlip.bench;

import mlip.cli.MlipSubcommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mlip bench ...}: quick comparison tables (the JMH suite is {@code mlip bench jmh}). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the engine against its references and print comparison tables.",
        subcommands = {GemmBench.class, LayerBench.class, KernelsBench.class, StepBench.class, JmhCommand.class})
public final class BenchCommand implements Runnable, MlipSubcommand {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
