package mlip.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import mlip.autograd.Variable;
import mlip.optim.AdamW;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * End to end: a one-layer transformer classifier learns a seeded synthetic task to 100% train
 * accuracy with AdamW within a bounded number of steps. The task needs attention across positions:
 * the label says whether token 1 occurs more often than token 2 in a sequence of 8 tokens.
 */
class LearnToClassifyTest {

    static final class Classifier extends Module {
        final TextTransformer encoder;
        final Linear head;

        Classifier(Generator g) {
            encoder = child("encoder", new TextTransformer(6, 8, 1, 32, 1, 2, 64, 0.0, g, DType.F32));
            head = child("head", new Linear(32, 2, true, g));
        }

        Variable forward(Tensor ids) {
            return head.forward(encoder.forward(ids, null).mean(1, false));   // (B, 2)
        }
    }

    @Test
    void reachesFullTrainAccuracy() {
        int n = 64, t = 8;
        Generator g = new Generator(2024);
        int[] ids = new int[n * t], labels = new int[n];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            int ones = 0, twos = 0;
            do {
                ones = twos = 0;
                for (int j = 0; j < t; j++) {
                    int tok = rnd.nextInt(6);
                    ids[i * t + j] = tok;
                    if (tok == 1) ones++;
                    if (tok == 2) twos++;
                }
            } while (ones == twos);
            labels[i] = ones > twos ? 1 : 0;
        }
        Tensor x = Tensor.of(ids, n, t), y = Tensor.of(labels, n);
        Classifier model = new Classifier(g);
        AdamW opt = new AdamW(model.namedParameters(), 3e-3);
        int maxSteps = 400;
        double accuracy = 0;
        int step = 0;
        for (; step < maxSteps && accuracy < 1; step++) {
            opt.zeroGrad();
            Variable logits = model.forward(x);
            logits.crossEntropy(y).backward();
            opt.step();
            accuracy = logits.value().argmax(1, false).eq(y).to(DType.F64).mean().item();
        }
        System.out.println("LearnToClassifyTest: train accuracy " + accuracy + " after " + step + " steps");
        assertEquals(1.0, accuracy, 0, "train accuracy after " + step + " steps");
        assertTrue(step < maxSteps);
    }
}
