package mlip.tensor;

/** What a random fill draws: uniform on [0, 1) or the standard normal (Box-Muller on Philox). */
public enum Distribution {
    UNIFORM,
    NORMAL
}
