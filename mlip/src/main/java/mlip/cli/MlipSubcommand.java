package mlip.cli;

/**
 * Marker for a picocli {@code @Command} class that {@link Main} adds as a top-level subcommand.
 *
 * <p>Modules that sit above {@code mlip} (such as {@code bench}) register theirs in
 * {@code META-INF/services/mlip.cli.MlipSubcommand}, so the dependency arrows keep pointing one way.
 */
public interface MlipSubcommand {
}
