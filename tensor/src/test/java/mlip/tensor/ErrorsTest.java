package mlip.tensor;

import static mlip.tensor.TestTensors.*;

import org.junit.jupiter.api.Test;

/**
 * Every shape or dtype mismatch is an IllegalArgumentException whose message names the op and the
 * shapes involved (the Tensor front end's contract), so a user can find the bad call from the message alone.
 */
class ErrorsTest {

    @Test
    void elementwiseShapeMismatchesNameTheOpAndBothShapes() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(4);
        assertIAE(() -> a.add(b), "add", "[2, 3]", "[4]");
        assertIAE(() -> a.sub(b), "sub", "[2, 3]", "[4]");
        assertIAE(() -> a.mul(b), "mul", "[2, 3]", "[4]");
        assertIAE(() -> a.div(b), "div", "[2, 3]", "[4]");
        assertIAE(() -> a.maximum(b), "max", "[2, 3]", "[4]");
        assertIAE(() -> a.pow(b), "pow", "[2, 3]", "[4]");
        assertIAE(() -> a.eq(b), "eq", "[2, 3]", "[4]");
        assertIAE(() -> a.ge(b), "ge", "[2, 3]", "[4]");
        assertIAE(() -> Tensor.zeros(2, 3, 4).add(Tensor.zeros(3, 1, 5)), "add", "[2, 3, 4]", "[3, 1, 5]");
        assertIAE(() -> Tensor.zeros(0).add(Tensor.zeros(2)), "add", "[0]", "[2]");
        assertIAE(() -> Tensor.where(Tensor.zeros(2, 1), a, Tensor.zeros(5)), "where", "[5]");
        assertIAE(() -> a.maskedFill(Tensor.zeros(3, 3), 0), "maskedFill", "[3, 3]", "[2, 3]");
    }

    @Test
    void dtypeMismatchesNameTheOpTheDtypesAndTheShapes() {
        Tensor f = Tensor.zeros(2, 3), d = Tensor.zeros(DType.F64, 2, 3), i = Tensor.zeros(DType.I32, 2, 3);
        assertIAE(() -> f.add(d), "add", "F32", "F64", "[2, 3]");
        assertIAE(() -> f.mul(i), "mul", "F32", "I32");
        assertIAE(() -> f.matmul(Tensor.zeros(DType.F64, 3, 2)), "matmul", "F32", "F64", "[3, 2]");
        assertIAE(() -> Tensor.where(f, f, d), "where", "F32", "F64");
        assertIAE(() -> Tensor.cat(0, f, d), "cat", "F32", "F64");
        assertIAE(() -> f.scatterAdd(0, Tensor.zeros(DType.I32, 1, 1), Tensor.zeros(DType.F64, 1, 1)), "scatterAdd", "F64");
        assertIAE(() -> f.layerNorm(Tensor.zeros(DType.F64, 3), null, 1e-5), "layerNorm", "F64");
        assertIAE(() -> i.exp(), "exp", "I32", "[2, 3]");
        assertIAE(() -> i.mean(), "mean", "I32");
        assertIAE(() -> i.softmax(0), "softmax", "I32");
        assertIAE(() -> f.gather(0, Tensor.zeros(1, 1)), "gather", "I32");
    }

    @Test
    void matmulMismatches() {
        assertIAE(() -> Tensor.zeros(2, 3).matmul(Tensor.zeros(4, 5)), "matmul", "[2, 3]", "[4, 5]");
        assertIAE(() -> Tensor.zeros(7).matmul(Tensor.zeros(3, 7)), "matmul", "[7]", "[3, 7]");
        assertIAE(() -> Tensor.zeros(2, 2, 3).bmm(Tensor.zeros(3, 3, 2)), "bmm", "[2, 2, 3]", "[3, 3, 2]");
    }

    /** Batch dims that do not broadcast: the message should show the operands' shapes, not just their batch parts. */
    @Test
    void matmulBatchMismatchNamesBothOperandShapes() {
        assertIAE(() -> Tensor.zeros(2, 3, 4).matmul(Tensor.zeros(3, 4, 5)), "matmul", "[2, 3, 4]", "[3, 4, 5]");
    }

    @Test
    void indexingMismatches() {
        Tensor x = Tensor.zeros(3, 4);
        assertIAE(() -> x.gather(1, Tensor.zeros(DType.I32, 4, 2)), "gather", "[4, 2]", "[3, 4]");
        assertIAE(() -> x.gather(1, Tensor.zeros(DType.I32, 3)), "gather", "[3]", "[3, 4]");
        assertIAE(() -> x.scatterAdd(1, Tensor.zeros(DType.I32, 3, 2), Tensor.zeros(3, 1)), "scatterAdd", "[3, 2]", "[3, 1]");
        assertIAE(() -> x.indexSelect(1, Tensor.zeros(DType.I32, 2, 1)), "indexSelect", "[2, 1]");
        assertIAE(() -> Tensor.cat(1, x, Tensor.zeros(2, 4)), "cat", "[3, 4]", "[2, 4]");
        assertIAE(() -> Tensor.cat(0, x, Tensor.zeros(3, 4, 1)), "cat", "[3, 4]", "[3, 4, 1]");
        assertIAE(() -> Tensor.stack(0, x, Tensor.zeros(4, 3)), "stack", "[3, 4]", "[4, 3]");
        assertIAE(() -> x.topk(5, 1, true), "topk", "[3, 4]");
    }

    @Test
    void viewMismatches() {
        Tensor x = Tensor.zeros(2, 3, 4);
        assertIAE(() -> x.view(5, 5), "view", "[5, 5]", "[2, 3, 4]");
        assertIAE(() -> x.transpose(0, 1).view(24), "view", "[24]", "[3, 2, 4]");
        assertIAE(() -> x.reshape(5, -1), "reshape", "[5, -1]", "[2, 3, 4]");
        assertIAE(() -> x.narrow(2, 3, 2), "narrow", "[2, 3, 4]");
        assertIAE(() -> x.select(1, 3), "select", "[2, 3, 4]");
        assertIAE(() -> x.expand(2, 5, 4), "expand", "[2, 3, 4]", "[2, 5, 4]");
        assertIAE(() -> x.permute(0, 1), "permute", "[2, 3, 4]");
        assertIAE(() -> x.transpose(0, 3), "transpose", "3");
        assertIAE(() -> x.size(3), "size", "3");
        assertIAE(() -> new Tensor(x.storage(), new int[]{2, 3}, new int[]{1}, 0), "Tensor", "[2, 3]", "[1]");
        assertIAE(() -> Tensor.contiguousOn(x.storage(), 5, 5), "Tensor", "[5, 5]", "24");
    }

    /** copyFrom with a source that does not broadcast to the destination view. */
    @Test
    void copyFromMismatchNamesCopyFromAndBothShapes() {
        Tensor dst = Tensor.zeros(3, 4);
        assertIAE(() -> dst.copyFrom(Tensor.zeros(5)), "copyFrom", "[5]", "[3, 4]");
        assertIAE(() -> dst.copyFrom(Tensor.zeros(2, 3, 4)), "copyFrom", "[2, 3, 4]", "[3, 4]");
        assertIAE(() -> dst.narrow(1, 0, 1).copyFrom(Tensor.zeros(3, 2)), "copyFrom", "[3, 2]", "[3, 1]");
    }

    @Test
    void fusedOpMismatches() {
        Tensor x = Tensor.zeros(5, 8);
        assertIAE(() -> x.layerNorm(Tensor.zeros(7), null, 1e-5), "layerNorm", "[7]", "[5, 8]");
        assertIAE(() -> x.layerNorm(null, Tensor.zeros(8, 1), 1e-5), "layerNorm", "[8, 1]", "[5, 8]");
        assertIAE(() -> x.crossEntropy(Tensor.zeros(DType.I32, 4)), "crossEntropy", "[5, 8]", "[4]");
        assertIAE(() -> Tensor.zeros(2, 5, 8).crossEntropy(Tensor.zeros(DType.I32, 2)), "crossEntropy", "[2, 5, 8]", "[2]");
        assertIAE(() -> x.crossEntropy(Tensor.of(new int[]{0, 1, 8, 2, 3}, 5)), "crossEntropy", "8", "[0, 8)");
        assertIAE(() -> x.softmax(2), "softmax", "2");
    }
}
