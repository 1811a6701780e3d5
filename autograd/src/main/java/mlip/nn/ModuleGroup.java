package mlip.nn;

/** A module that only groups children under a name, for layouts such as BERT's {@code attention.output.dense}. */
public final class ModuleGroup extends Module {
    public <M extends Module> M add(String name, M m) {
        return child(name, m);
    }
}
