package mlip.autograd;

/**
 * Turns graph recording off in a scope (PyTorch's {@code torch.no_grad()}), per thread:
 * <pre>{@code
 * try (var ignored = GradMode.noGrad()) {
 *     Variable logits = model.forward(x);   // no graph, no saved activations
 * }
 * }</pre>
 */
public final class GradMode {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> true);

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** A scope whose {@code close()} restores the previous mode and throws nothing. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Disables recording until the returned scope is closed (scopes nest). */
    public static Scope noGrad() {
        boolean was = ENABLED.get();
        ENABLED.set(false);
        return () -> ENABLED.set(was);
    }
}
