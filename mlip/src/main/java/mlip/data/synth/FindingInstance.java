package mlip.data.synth;

/** One finding present in a study: what, how severe, and where. */
public record FindingInstance(Finding finding, Severity severity, Location location) {
}
