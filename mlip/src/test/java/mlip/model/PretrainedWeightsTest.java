package mlip.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mlip.io.Safetensors;
import mlip.nn.TextTransformer;
import mlip.nn.VisionTransformer;
import mlip.tensor.DType;
import mlip.tensor.Generator;
import mlip.tensor.Tensor;
import mlip.tensor.Tolerance;
import mlip.text.Encoded;
import mlip.text.WordPieceTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tiny Hugging Face BERT and timm ViT checkpoints (tools/reference/make_pretrained_golden.py) loaded by
 * name mapping must reproduce PyTorch's outputs at the plain F32 tolerance (no override was needed); and the
 * loader's errors, ignore rules and adaptations.
 */
class PretrainedWeightsTest {
    static final Path G = Path.of("src", "test", "resources", "golden", "pretrained");
    static final Path BERT = G.resolve("bert"), VIT = G.resolve("vit").resolve("model.safetensors");
    // the tiny checkpoints' shapes (make_pretrained_golden.py)
    static final int VOCAB = 60, MAX_POS = 32, DIM = 16, DEPTH = 2, HEADS = 2, MLP = 32;

    @TempDir
    Path tmp;

    static TextTransformer bert(int maxPositions, int mlp) {
        return new TextTransformer(VOCAB, maxPositions, 2, DIM, DEPTH, HEADS, mlp, 0.0, new Generator(7), DType.F32);
    }

    static VisionTransformer vit(int imageSize, int channels) {
        return new VisionTransformer(imageSize, 4, channels, DIM, DEPTH, HEADS, MLP, new Generator(7), DType.F32);
    }

    static Map<String, Tensor> io(String name) throws Exception {
        return Safetensors.read(G.resolve(name + ".safetensors"));
    }

    /** A copy of the golden BERT directory to change. */
    Path bertCopy() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("bert"));
        try (var files = Files.list(BERT)) {
            for (Path f : files.toList()) Files.copy(f, d.resolve(f.getFileName()));
        }
        return d;
    }

    @Test
    void bertLoadsByNameAndMatchesPyTorch() throws Exception {
        TextTransformer t = bert(MAX_POS, MLP);
        PretrainedWeights.Report r = PretrainedWeights.loadBert(t, HEADS, BERT);
        assertEquals(List.of("bert.embeddings.position_ids", "bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.predictions.bias"), r.ignored());
        assertEquals(List.copyOf(t.namedParameters().keySet()), r.loaded());
        assertTrue(r.adapted().isEmpty(), r.adapted().toString());
        assertTrue(r.summary().contains("ignored 4: bert.embeddings.position_ids"), r.summary());
        t.train(false);
        Map<String, Tensor> g = io("bert_io");
        Tolerance.assertClose("bert last hidden states", t.forward(g.get("input.ids"), g.get("input.mask")).value(), g.get("out"));
    }

    @Test
    void halfPrecisionCheckpointsLoad() throws Exception {
        TextTransformer t = bert(MAX_POS, MLP);
        PretrainedWeights.loadBert(t, HEADS, G.resolve("bert-half"));   // word embeddings F16, the rest BF16
        t.train(false);
        Map<String, Tensor> g = io("bert_io");
        Tolerance.assertClose("bert (F16/BF16 weights) last hidden states", t.forward(g.get("input.ids"), g.get("input.mask")).value(), g.get("out_half"));
    }

    @Test
    void theDirectorysVocabularyAndCasingGiveTheGoldenInputIds() throws Exception {
        assertFalse(PretrainedWeights.bertLowercase(BERT, true), "tokenizer_config.json says do_lower_case false");
        assertTrue(PretrainedWeights.bertLowercase(G.resolve("bert-half"), true), "no tokenizer_config.json: the fallback");
        WordPieceTokenizer tok = WordPieceTokenizer.load(BERT.resolve("vocab.txt"), PretrainedWeights.bertLowercase(BERT, true));
        var g = Safetensors.readWithMetadata(G.resolve("bert_io.safetensors"));
        String[] texts = new ObjectMapper().readValue(g.metadata().get("texts"), String[].class);
        Tensor ids = g.tensors().get("input.ids");
        for (int i = 0; i < texts.length; i++) {
            Encoded e = tok.encodeText(texts[i], ids.size(1));
            assertArrayEquals(ids.narrow(0, i, 1).toIntArray(), e.ids(), texts[i]);
        }
    }

    @Test
    void aConfigMismatchNamesTheKeyTheFileAndBothValues() throws Exception {
        TextTransformer t = bert(MAX_POS, 24);
        Tensor before = t.wordEmbeddings.weight.value();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.loadBert(t, 4, BERT));
        String m = e.getMessage();
        assertTrue(m.contains(BERT.resolve("config.json").toString()), m);
        assertTrue(m.contains("intermediate_size is 32 in the file, 24 in the encoder"), m);
        assertTrue(m.contains("num_attention_heads is 2 in the file, 4 in the encoder"), m);
        assertTrue(t.wordEmbeddings.weight.value() == before, "a failed load assigns nothing");

        Path d = bertCopy();
        ObjectMapper json = new ObjectMapper();
        ObjectNode c = (ObjectNode) json.readTree(d.resolve("config.json").toFile());
        c.put("hidden_act", "gelu_new").put("layer_norm_eps", 1e-5);
        json.writeValue(d.resolve("config.json").toFile(), c);
        m = assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.loadBert(bert(MAX_POS, MLP), HEADS, d)).getMessage();
        assertTrue(m.contains("hidden_act is \"gelu_new\" in the file, \"gelu\" in the encoder"), m);
        assertTrue(m.contains("layer_norm_eps is 1.0E-5 in the file, 1.0E-12 in the encoder"), m);

        // An old config (as Bio_ClinicalBERT's) without hidden_act, layer_norm_eps, position_embedding_type: the defaults fit.
        c.remove(List.of("hidden_act", "layer_norm_eps", "position_embedding_type"));
        json.writeValue(d.resolve("config.json").toFile(), c);
        PretrainedWeights.loadBert(bert(MAX_POS, MLP), HEADS, d);
    }

    @Test
    void aLongerPositionTableIsCutAndAShorterOneIsAnError() throws Exception {
        TextTransformer t = bert(20, MLP);
        PretrainedWeights.Report r = PretrainedWeights.loadBert(t, HEADS, BERT);
        assertEquals(List.of("bert.embeddings.position_embeddings.weight: kept the first 20 of 32 positions"), r.adapted());
        Tensor file = Safetensors.read(BERT.resolve("model.safetensors")).get("bert.embeddings.position_embeddings.weight");
        assertArrayEquals(file.narrow(0, 0, 20).toFloatArray(), t.positionEmbeddings.weight.value().toFloatArray());
        // sequences within the table give BERT's outputs exactly as with the whole table
        t.train(false);
        Map<String, Tensor> g = io("bert_io");
        Tolerance.assertClose("bert with 20 positions", t.forward(g.get("input.ids"), g.get("input.mask")).value(), g.get("out"));

        String m = assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.loadBert(bert(40, MLP), HEADS, BERT)).getMessage();
        assertTrue(m.contains("max_position_embeddings is 32 in the file, 40 in the encoder"), m);
    }

    @Test
    void aMissingParameterAndAnUnknownTensorAreNamed() throws Exception {
        Path d = bertCopy();
        LinkedHashMap<String, Tensor> w = Safetensors.read(BERT.resolve("model.safetensors"));
        w.remove("bert.encoder.layer.1.output.dense.bias");
        w.put("bert.encoder.layer.0.attention.self.distance_embedding.weight", Tensor.zeros(3, DIM));
        Safetensors.write(d.resolve("model.safetensors"), w);
        TextTransformer t = bert(MAX_POS, MLP);
        Tensor before = t.layers.get(0).namedParameters().get("attention.self.query.weight").value();
        String m = assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.loadBert(t, HEADS, d)).getMessage();
        assertTrue(m.contains(d.resolve("model.safetensors").toString()), m);
        assertTrue(m.contains("1 parameter(s) not in the file: encoder.layer.1.output.dense.bias"), m);
        assertTrue(m.contains("no parameter takes (and no ignore rule covers): bert.encoder.layer.0.attention.self.distance_embedding.weight"), m);
        assertTrue(before == t.layers.get(0).namedParameters().get("attention.self.query.weight").value(), "a failed load assigns nothing");

        String v = assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.loadTimmVit(vit(16, 1), d.resolve("model.safetensors"))).getMessage();
        assertTrue(v.contains("parameter(s) not in the file: cls_token, pos_embed, patch_embed.proj.weight"), v);
    }

    @Test
    void legacyGammaBetaNamesAreRenamed() throws Exception {
        Path d = bertCopy();
        LinkedHashMap<String, Tensor> w = new LinkedHashMap<>();
        Safetensors.read(BERT.resolve("model.safetensors")).forEach((k, v) -> w.put(k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), v));
        Safetensors.write(d.resolve("model.safetensors"), w);
        TextTransformer t = bert(MAX_POS, MLP);
        PretrainedWeights.Report r = PretrainedWeights.loadBert(t, HEADS, d);
        assertEquals(2 + 4 * DEPTH, r.adapted().size(), r.adapted().toString());
        assertTrue(r.adapted().contains("renamed bert.embeddings.LayerNorm.gamma to embeddings.LayerNorm.weight"), r.adapted().toString());
        t.train(false);
        Map<String, Tensor> g = io("bert_io");
        Tolerance.assertClose("bert, gamma/beta names", t.forward(g.get("input.ids"), g.get("input.mask")).value(), g.get("out"));
    }

    @Test
    void vitLoadsIntoAGrayscaleModelAndMatchesPyTorchOnReplicatedGray() throws Exception {
        VisionTransformer v = vit(16, 1);
        PretrainedWeights.Report r = PretrainedWeights.loadTimmVit(v, VIT);
        assertEquals(List.of("head.weight", "head.bias"), r.ignored());
        assertEquals(List.of("patch_embed.proj.weight [16, 3, 4, 4] summed over its 3 input channels (timm's adapt_input_conv)"), r.adapted());
        assertArrayEquals(new int[]{DIM, 1, 4, 4}, v.patchWeight.shape());
        v.train(false);
        Map<String, Tensor> g = io("vit_io");
        Tensor gray = g.get("input.gray");
        Tolerance.assertClose("vit (gray, summed channels)", v.forward(gray).value(), g.get("out"));

        // the unadapted 3-channel model on the replicated image gives the same: the sum is the right adaptation
        VisionTransformer rgb = vit(16, 3);
        assertTrue(PretrainedWeights.loadTimmVit(rgb, VIT).adapted().isEmpty());
        rgb.train(false);
        Tensor rep = gray.expand(gray.size(0), 3, 16, 16).contiguous();
        Tolerance.assertClose("vit (RGB, replicated gray)", rgb.forward(rep).value(), g.get("out"));

        String m = assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.loadTimmVit(vit(16, 2), VIT)).getMessage();
        assertTrue(m.contains("has 3 input channels, the model 2"), m);
    }

    @Test
    void posEmbedResamplingKeepsClsMatchesBilinearAndIsTheIdentityOnTheSameGrid() throws Exception {
        Tensor pe = Safetensors.read(VIT).get("pos_embed");                                     // (1, 17, 16): a 4x4 grid
        Map<String, Tensor> g = io("vit_io");
        assertArrayEquals(pe.toFloatArray(), PretrainedWeights.resamplePosEmbed(pe, 4).toFloatArray(), "same grid: the identity");
        for (int grid : new int[]{3, 4, 6}) {
            Tensor r = PretrainedWeights.resamplePosEmbed(pe, grid);
            Tolerance.assertClose("pos_embed to " + grid + "x" + grid, r, g.get("pos_embed.grid" + grid));
            assertArrayEquals(pe.narrow(1, 0, 1).toFloatArray(), r.narrow(1, 0, 1).toFloatArray(), "CLS row kept");
        }
        // a 24 px model (6x6 grid) takes the resampled table through the loader
        VisionTransformer v = vit(24, 1);
        PretrainedWeights.Report r = PretrainedWeights.loadTimmVit(v, VIT);
        assertTrue(r.adapted().contains("pos_embed [1, 17, 16] resampled bilinearly to a 6x6 grid [1, 37, 16]"), r.adapted().toString());
        Tolerance.assertClose("loaded pos_embed", v.posEmbed.value(), g.get("pos_embed.grid6"));
        assertThrows(IllegalArgumentException.class, () -> PretrainedWeights.resamplePosEmbed(Tensor.zeros(1, 1 + 5, 4), 3), "5 is no square");
    }
}
