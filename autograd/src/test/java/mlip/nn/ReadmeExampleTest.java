package mlip.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import mlip.autograd.Variable;
import mlip.optim.AdamW;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The README's "Autograd" example, line for line, so it keeps compiling and running. */
class ReadmeExampleTest {

    @Test
    void oneTrainingStep() {
        Generator g = new Generator(0);
        TransformerBlock block = new TransformerBlock(192, 3, 768, true, 1e-6, g, DType.F32);   // pre-LN, timm names
        Linear head = new Linear(192, 10, true, g);
        var params = new java.util.LinkedHashMap<>(block.namedParameters());
        head.namedParameters().forEach((k, v) -> params.put("head." + k, v));
        AdamW opt = new AdamW(params, 3e-4);

        Tensor x = Tensor.randn(g, 8, 145, 192);                             // (B, T, D)
        Tensor y = Tensor.of(new int[]{0, 1, 2, 3, 4, 5, 6, 7}, 8);           // (B) labels
        Variable logits = head.forward(block.forward(Variable.of(x), null).mean(1, false));   // (B, 10)
        Variable loss = logits.crossEntropy(y);
        opt.zeroGrad();
        loss.backward();
        opt.step();

        double before = loss.item();
        double after = head.forward(block.forward(Variable.of(x), null).mean(1, false)).crossEntropy(y).item();
        assertTrue(after < before, "one AdamW step did not lower the loss: " + before + " -> " + after);
    }
}
