package mlip.nn;

import java.util.ArrayList;
import java.util.List;
import mlip.autograd.Variable;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Shape;
import mlip.tensor.Tensor;

/**
 * A BERT encoder with Hugging Face's names ({@code embeddings.word_embeddings.weight},
 * {@code encoder.layer.i.attention.self.query.weight}, ...), so a Bio_ClinicalBERT safetensors file
 * loads by name. Post-LN blocks, exact GELU, LayerNorm eps 1e-12, as {@code BertModel}.
 *
 * <pre>{@code
 * TextTransformer bert = new TextTransformer(30522, 512, 2, 768, 12, 12, 3072, 0.1, g, DType.F32);
 * Variable h = bert.forward(ids, mask);      // ids (B, T) I32, mask (B, T) 1 = token, 0 = padding
 * }</pre>
 */
public final class TextTransformer extends Module {
    public final Embedding wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings;
    public final LayerNorm embeddingsNorm;
    public final List<Layer> layers = new ArrayList<>();
    private final Dropout dropout;
    private final int heads;

    /** One BERT layer: self-attention (query/key/value), attention.output (dense, LayerNorm), intermediate.dense, output (dense, LayerNorm). */
    public static final class Layer extends Module {
        final Linear query, key, value, attnOut, intermediate, out;
        final LayerNorm attnNorm, outNorm;

        Layer(int dim, int hidden, Generator g, DType dtype) {
            ModuleGroup attention = child("attention", new ModuleGroup());
            ModuleGroup self = attention.add("self", new ModuleGroup());
            query = self.add("query", new Linear(dim, dim, true, g, dtype));
            key = self.add("key", new Linear(dim, dim, true, g, dtype));
            value = self.add("value", new Linear(dim, dim, true, g, dtype));
            ModuleGroup aout = attention.add("output", new ModuleGroup());
            attnOut = aout.add("dense", new Linear(dim, dim, true, g, dtype));
            attnNorm = aout.add("LayerNorm", new LayerNorm(dim, 1e-12, dtype));
            intermediate = child("intermediate", new ModuleGroup()).add("dense", new Linear(dim, hidden, true, g, dtype));
            ModuleGroup o = child("output", new ModuleGroup());
            out = o.add("dense", new Linear(hidden, dim, true, g, dtype));
            outNorm = o.add("LayerNorm", new LayerNorm(dim, 1e-12, dtype));
        }

        Variable forward(Variable x, Tensor keyPadding, int heads, Dropout dropout) {
            Variable q = MultiHeadAttention.splitHeads(query.forward(x), heads);
            Variable k = MultiHeadAttention.splitHeads(key.forward(x), heads);
            Variable v = MultiHeadAttention.splitHeads(value.forward(x), heads);
            Variable a = MultiHeadAttention.mergeHeads(Variable.attention(q, k, v, keyPadding));
            x = attnNorm.forwardAdd(x, dropout.forward(attnOut.forward(a))).out();
            Variable h = out.forward(intermediate.forwardGelu(x, false));
            return outNorm.forwardAdd(x, dropout.forward(h)).out();
        }
    }

    public TextTransformer(int vocab, int maxPositions, int typeVocab, int dim, int depth, int heads, int hidden, double dropoutP, Generator g, DType dtype) {
        if (dim % heads != 0) throw new IllegalArgumentException("TextTransformer: dim " + dim + " not divisible by " + heads + " heads");
        this.heads = heads;
        ModuleGroup emb = child("embeddings", new ModuleGroup());
        wordEmbeddings = emb.add("word_embeddings", new Embedding(vocab, dim, 0.02, g, dtype));
        positionEmbeddings = emb.add("position_embeddings", new Embedding(maxPositions, dim, 0.02, g, dtype));
        tokenTypeEmbeddings = emb.add("token_type_embeddings", new Embedding(typeVocab, dim, 0.02, g, dtype));
        embeddingsNorm = emb.add("LayerNorm", new LayerNorm(dim, 1e-12, dtype));
        ModuleGroup layer = child("encoder", new ModuleGroup()).add("layer", new ModuleGroup());
        for (int i = 0; i < depth; i++) layers.add(layer.add(Integer.toString(i), new Layer(dim, hidden, g, dtype)));
        dropout = child("dropout", new Dropout(dropoutP, g));   // no parameters: names unchanged
    }

    /** ids (B, T) I32; attentionMask (B, T) 1 for tokens, 0 for padding (or null) -> hidden states (B, T, D). */
    public Variable forward(Tensor ids, Tensor attentionMask) {
        if (ids.ndim() != 2) throw new IllegalArgumentException("TextTransformer: ids must be (B, T), got " + Shape.str(ids.shape()));
        return forwardEmbeddings(wordEmbeddings.forward(ids), attentionMask);
    }

    /**
     * Runs the encoder on given word embeddings (B, T, D) — position and token-type embeddings are added
     * here — so callers can put learned vectors among the tokens (continuous prompts, DESIGN.md 7.5).
     */
    public Variable forwardEmbeddings(Variable words, Tensor attentionMask) {
        int b = words.size(0), t = words.size(1);
        mlip.tensor.Device dev = words.value().device();
        Tensor positions = Tensor.arange(t, dev).unsqueeze(0).expand(b, t);
        Tensor types = Tensor.full(mlip.tensor.DType.I32, dev, 0, b, t);
        Variable x = words.add(positionEmbeddings.forward(positions)).add(tokenTypeEmbeddings.forward(types));
        x = dropout.forward(embeddingsNorm.forward(x));
        Tensor keyPadding = attentionMask == null ? null : attentionMask.eq(0);
        for (Layer l : layers) x = l.forward(x, keyPadding, heads, dropout);
        return x;
    }
}
