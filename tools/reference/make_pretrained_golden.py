#!/usr/bin/python3
"""Golden files for loading pretrained weights (mlip.model.PretrainedWeights) and for BERT tokenization
(mlip.text.WordPieceTokenizer), written under mlip/src/test/resources/golden/pretrained/. Run from the
repository root with Debian's python, where torch is:

    apt-get install -y python3-torch && /usr/bin/python3 tools/reference/make_pretrained_golden.py

What it writes:
  bert/        a TINY Hugging Face BERT directory in Bio_ClinicalBERT's layout: config.json,
               model.safetensors (BertForPreTraining names: "bert.embeddings...", "bert.encoder.layer.N...",
               plus bert.pooler.*, cls.predictions.bias and an I64 bert.embeddings.position_ids buffer, which
               a loader must ignore), vocab.txt, tokenizer_config.json (do_lower_case false: a cased model)
  bert-half/   the same model with the word embeddings in F16 and every other float tensor in BF16
  bert_io.safetensors  input.ids / input.mask (two texts tokenized with bert/vocab.txt), out (last hidden
               states), out_half (those of the rounded bert-half weights)
  vit/model.safetensors  a TINY timm ViT (3 input channels, image 16, patch 4, dim 16, depth 2, heads 2,
               mlp 32) with timm's names and a head.* classifier a loader must ignore
  vit_io.safetensors  input.gray (B, 1, 16, 16), out = the ViT's output for gray replicated to 3 channels
               (what summing patch_embed.proj.weight over RGB must reproduce), pos_embed.gridG = pos_embed
               resampled bilinearly (align_corners=False, no antialias) to a G x G grid
  wordpiece_vocab.txt, wordpiece_expected.json  the ids a pure-Python BasicTokenizer + WordPiece (written
               here from BERT's rules) gives for each line of the checked-in clinical_sentences.txt, cased
               and uncased

The models are plain torch with the math written out (exact erf GELU; BERT post-LN, eps 1e-12; timm
pre-LN, eps 1e-6), evaluated in float64 from the float32 weights, so the check is of the math and the
name mapping, not of a library. Seeded: a rerun writes the same files.
"""
import json
import math
import os
import shutil
import unicodedata

import torch
import torch.nn.functional as F

from golden_io import write_safetensors

OUT = os.path.join("mlip", "src", "test", "resources", "golden", "pretrained")
torch.manual_seed(0)


# ---------------------------------------------------------------- BERT tokenization, from its rules

def is_whitespace(c):
    return c in " \t\n\r" or unicodedata.category(c) == "Zs"


def is_control(c):
    return c not in "\t\n\r" and unicodedata.category(c).startswith("C")


def is_punctuation(c):
    cp = ord(c)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True  # every non-alphanumeric ASCII symbol counts, "$" and "^" too
    return unicodedata.category(c).startswith("P")


def is_cjk(cp):
    return any(lo <= cp <= hi for lo, hi in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                                             (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def basic_tokenize(text, lower):
    """Clean (drop NUL, U+FFFD, controls; whitespace to " "), space out CJK ideographs, NFC, split on
    whitespace; per word lower-case and strip accents (NFD, drop Mn) when uncased; split off punctuation."""
    chars = []
    for c in text:
        if ord(c) in (0, 0xFFFD) or is_control(c):
            continue
        if is_whitespace(c):
            chars.append(" ")
        elif is_cjk(ord(c)):
            chars += [" ", c, " "]
        else:
            chars.append(c)
    words = []
    for w in unicodedata.normalize("NFC", "".join(chars)).split():
        if lower:
            w = "".join(c for c in unicodedata.normalize("NFD", w.lower()) if unicodedata.category(c) != "Mn")
        cur = ""
        for c in w:
            if is_punctuation(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    return words


def wordpiece(words, vocab, max_chars=100):
    """Greedy longest-match-first; continuation pieces carry "##"; an uncovered or over-long word is [UNK]."""
    out = []
    for w in words:
        if len(w) > max_chars:
            out.append("[UNK]")
            continue
        pieces, start = [], 0
        while start < len(w):
            end = len(w)
            while end > start and (("##" if start else "") + w[start:end]) not in vocab:
                end -= 1
            if end == start:
                pieces = ["[UNK]"]
                break
            pieces.append(("##" if start else "") + w[start:end])
            start = end
        out += pieces
    return out


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        toks = [line.rstrip("\n") for line in f]
    return {t: i for i, t in enumerate(toks)}  # a repeated token keeps its last id


# A vocabulary made so words split into pieces: every lower-case letter and digit alone and as "##",
# upper-case letters alone and most as "##" (not ##J, ##Q, ##X, ##Z: some cased words become [UNK]),
# the ASCII punctuation, a few accented and Greek letters, two CJK characters, then clinical stems and
# suffixes ("pneum" + "##othorax", "atel" + "##ectasis", ...).
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LOWER = list("abcdefghijklmnopqrstuvwxyz0123456789")
UPPER = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
UPPER_CONT = [c for c in UPPER if c not in "JQXZ"]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
OTHER = ["##é", "ü", "##ü", "β", "α", "µ", "胸", "部", "。", "–", "—"]
WORDS = """the no is of in a and with are at on from to as per vs be seen
heart size normal right left upper lower lobe lung ##s mass cm mm tube tip line lines chest view study prior
un ##changed ##change since small mild acute cardio ##pulmonary ##megaly process pleural effusion ##s
atel ##ectasis pneum ##othorax ##onia ##o ##thorax hemi ##diaphragm diaphragm medi ##astinal contour ##s
opac ##ity ##ities ##ied find ##ing ##ings patient ##s recommend clinical correlation ##al ##ly ##ed ##er
cardiomegaly there inter ##val place ##ment side ##d tip mid post median stern ##otomy wire ##s intact
lobe ##ctomy spot ##s note ##d skin male present old year follow up months ##month criteria
evidence temperature room air likely aspiration catheter junction cav ##oat ##rial hyper ##inflated
consistent degenerative thoracic spine bi ##basilar hilum appear ##s prominent lead pace ##maker
nodule measure ##s previously elevated none portable upright trach ##eostomy standard position
weight height word length high grade sten ##osis main bronch ##us vital ##s rib fracture healed dose
block ##er anti ##tryp ##sin see stable consolidation effusion caf ##e exam scale same after
No The Heart There Small Mild Left Right Find ##ings Patient Status IMPRESSION CT""".split()


def write_wordpiece_golden():
    vocab_list = []
    for t in SPECIALS + LOWER + ["##" + c for c in LOWER] + UPPER + ["##" + c for c in UPPER_CONT] + PUNCT + OTHER + WORDS:
        if t not in vocab_list:
            vocab_list.append(t)
    path = os.path.join(OUT, "wordpiece_vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocab_list) + "\n")
    vocab = load_vocab(path)
    with open(os.path.join(OUT, "clinical_sentences.txt"), encoding="utf-8") as f:
        sentences = f.read().split("\n")[:-1]  # one per line; split on "\n" only (U+2028 is text here)
    cases = []
    for s in sentences:
        case = {"text": s}
        for name, lower in (("uncased", True), ("cased", False)):
            toks = wordpiece(basic_tokenize(s, lower), vocab)
            case[name] = {"tokens": toks, "ids": [vocab[t] for t in toks]}
        cases.append(case)
    # the sample must exercise what it is for: pieces, [UNK], both casings differing
    allu = [t for c in cases for t in c["uncased"]["tokens"]]
    assert sum(t.startswith("##") for t in allu) > 50 and "[UNK]" in allu
    assert sum(c["cased"]["ids"] != c["uncased"]["ids"] for c in cases) > 10
    with open(os.path.join(OUT, "wordpiece_expected.json"), "w", encoding="utf-8") as f:
        json.dump({"vocab": "wordpiece_vocab.txt", "sentences": "clinical_sentences.txt", "cases": cases}, f, ensure_ascii=False, indent=1)
    print("wordpiece:", len(vocab_list), "tokens,", len(cases), "sentences")


# ---------------------------------------------------------------- the models, math written out

def layer_norm(x, p, name, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * p[name + ".weight"] + p[name + ".bias"]


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def gelu(x):  # exact (erf) GELU: Hugging Face's "gelu", timm's nn.GELU
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def attention(q, k, v, pad):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if pad is not None:
        s = s.masked_fill(pad[:, None, None, :], float("-inf"))
    return s.softmax(-1) @ v


def split_heads(x, h):
    b, t, d = x.shape
    return x.reshape(b, t, h, d // h).permute(0, 2, 1, 3)


def merge_heads(x):
    b, h, t, dh = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, t, h * dh)


def bert_forward(p, ids, mask, heads, layers):
    """BertModel's last hidden states; p holds "bert."-prefixed names. Post-LN, eps 1e-12."""
    e = "bert.embeddings."
    pos = torch.arange(ids.shape[1])[None].expand_as(ids)
    x = p[e + "word_embeddings.weight"][ids] + p[e + "position_embeddings.weight"][pos] + p[e + "token_type_embeddings.weight"][torch.zeros_like(ids)]
    x = layer_norm(x, p, e + "LayerNorm", 1e-12)
    for i in range(layers):
        n = f"bert.encoder.layer.{i}."
        q, k, v = (split_heads(linear(x, p, n + "attention.self." + w), heads) for w in ("query", "key", "value"))
        a = merge_heads(attention(q, k, v, mask == 0))
        x = layer_norm(x + linear(a, p, n + "attention.output.dense"), p, n + "attention.output.LayerNorm", 1e-12)
        h = linear(gelu(linear(x, p, n + "intermediate.dense")), p, n + "output.dense")
        x = layer_norm(x + h, p, n + "output.LayerNorm", 1e-12)
    return x


def vit_forward(p, images, heads, depth, patch):
    """timm VisionTransformer.forward_features (CLS first, final norm). Pre-LN, eps 1e-6."""
    x = F.conv2d(images, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=patch)  # (B, D, G, G)
    x = x.flatten(2).transpose(1, 2)                                                                # (B, N, D)
    cls = p["cls_token"].expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x], 1) + p["pos_embed"]
    for i in range(depth):
        n = f"blocks.{i}."
        b, t, d = x.shape
        qkv = linear(layer_norm(x, p, n + "norm1", 1e-6), p, n + "attn.qkv").reshape(b, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        x = x + linear(merge_heads(attention(qkv[0], qkv[1], qkv[2], None)), p, n + "attn.proj")
        x = x + linear(gelu(linear(layer_norm(x, p, n + "norm2", 1e-6), p, n + "mlp.fc1")), p, n + "mlp.fc2")
    return layer_norm(x, p, "norm", 1e-6)


def ln_params(p, name, d):  # LayerNorm weights away from (1, 0), so a load that skipped them would show
    p[name + ".weight"] = 1 + 0.1 * torch.randn(d)
    p[name + ".bias"] = 0.1 * torch.randn(d)


def lin_params(p, name, i, o):
    bound = 1 / math.sqrt(i)
    p[name + ".weight"] = (torch.rand(o, i) * 2 - 1) * bound
    p[name + ".bias"] = (torch.rand(o) * 2 - 1) * bound


TINY_BERT_VOCAB = SPECIALS + list(".,;:()-/") + """no acute pleural effusion the heart size is normal lung ##s are clear
there a mild small right left lower upper lobe opac ##ity ##ies pneum ##othorax ##onia cardio ##megaly
stable tube tip line cm mass chest view un ##changed of in and with No The There""".split()


def write_bert():
    d, layers, heads, inter, maxpos, types = 16, 2, 2, 32, 32, 2
    vocab = len(TINY_BERT_VOCAB)
    p = {}
    e = "bert.embeddings."
    p[e + "word_embeddings.weight"] = 0.5 * torch.randn(vocab, d)
    p[e + "position_embeddings.weight"] = 0.5 * torch.randn(maxpos, d)
    p[e + "token_type_embeddings.weight"] = 0.5 * torch.randn(types, d)
    ln_params(p, e + "LayerNorm", d)
    for i in range(layers):
        n = f"bert.encoder.layer.{i}."
        for w in ("query", "key", "value"):
            lin_params(p, n + "attention.self." + w, d, d)
        lin_params(p, n + "attention.output.dense", d, d)
        ln_params(p, n + "attention.output.LayerNorm", d)
        lin_params(p, n + "intermediate.dense", d, inter)
        lin_params(p, n + "output.dense", inter, d)
        ln_params(p, n + "output.LayerNorm", d)
    extra = {}  # what BertForPreTraining also saves and an encoder load must ignore
    lin_params(extra, "bert.pooler.dense", d, d)
    extra["cls.predictions.bias"] = torch.randn(vocab)
    files = {e + "position_ids": torch.arange(maxpos, dtype=torch.int64)[None]}
    files.update(p)
    files.update(extra)

    config = {"architectures": ["BertForPreTraining"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
              "hidden_dropout_prob": 0.1, "hidden_size": d, "initializer_range": 0.02, "intermediate_size": inter,
              "layer_norm_eps": 1e-12, "max_position_embeddings": maxpos, "model_type": "bert", "num_attention_heads": heads,
              "num_hidden_layers": layers, "pad_token_id": 0, "position_embedding_type": "absolute", "type_vocab_size": types,
              "vocab_size": vocab}
    bert_dir = os.path.join(OUT, "bert")
    os.makedirs(bert_dir, exist_ok=True)
    with open(os.path.join(bert_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(bert_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(TINY_BERT_VOCAB) + "\n")
    with open(os.path.join(bert_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "model_max_length": maxpos, "tokenizer_class": "BertTokenizer"}, f, indent=2)
    write_safetensors(os.path.join(bert_dir, "model.safetensors"), files, {"format": "pt"})

    # Half precision: word embeddings F16, every other float tensor BF16 (the reader widens both exactly).
    half = {k: (v if not v.is_floating_point() else v.to(torch.float16 if "word_embeddings" in k else torch.bfloat16)) for k, v in files.items()}
    half_dir = os.path.join(OUT, "bert-half")
    os.makedirs(half_dir, exist_ok=True)
    for f in ("config.json", "vocab.txt"):
        shutil.copy(os.path.join(bert_dir, f), half_dir)
    write_safetensors(os.path.join(half_dir, "model.safetensors"), half, {"format": "pt"})

    # Inputs: two texts through the reference tokenizer (cased, as tokenizer_config says), [CLS] .. [SEP] [PAD]..
    vocab_ids = {t: i for i, t in enumerate(TINY_BERT_VOCAB)}
    texts = ["No acute pleural effusion.", "The heart size is normal; lungs are clear, unchanged."]
    t = 16
    ids, mask = [], []
    for s in texts:
        row = [vocab_ids["[CLS]"]] + [vocab_ids[w] for w in wordpiece(basic_tokenize(s, False), vocab_ids)] + [vocab_ids["[SEP]"]]
        assert len(row) <= t
        mask.append([1] * len(row) + [0] * (t - len(row)))
        ids.append(row + [vocab_ids["[PAD]"]] * (t - len(row)))
    ids, mask = torch.tensor(ids), torch.tensor(mask)
    p64 = {k: v.double() for k, v in files.items() if v.is_floating_point()}
    out = bert_forward(p64, ids, mask, heads, layers).float()
    h64 = {k: v.double() for k, v in half.items() if v.is_floating_point()}
    out_half = bert_forward(h64, ids, mask, heads, layers).float()
    write_safetensors(os.path.join(OUT, "bert_io.safetensors"), {
        "input.ids": ids.to(torch.int32), "input.mask": mask.to(torch.int32), "out": out, "out_half": out_half},
        {"texts": json.dumps(texts)})
    print("bert:", vocab, "tokens,", sum(v.numel() for v in p.values()), "encoder parameters, out", list(out.shape))


def write_vit():
    img, patch, c, d, depth, heads, mlp = 16, 4, 3, 16, 2, 2, 32
    g = img // patch
    p = {}
    p["cls_token"] = 0.5 * torch.randn(1, 1, d)
    p["pos_embed"] = 0.5 * torch.randn(1, 1 + g * g, d)
    bound = 1 / math.sqrt(c * patch * patch)
    p["patch_embed.proj.weight"] = (torch.rand(d, c, patch, patch) * 2 - 1) * bound
    p["patch_embed.proj.bias"] = (torch.rand(d) * 2 - 1) * bound
    for i in range(depth):
        n = f"blocks.{i}."
        ln_params(p, n + "norm1", d)
        lin_params(p, n + "attn.qkv", d, 3 * d)
        lin_params(p, n + "attn.proj", d, d)
        ln_params(p, n + "norm2", d)
        lin_params(p, n + "mlp.fc1", d, mlp)
        lin_params(p, n + "mlp.fc2", mlp, d)
    ln_params(p, "norm", d)
    files = dict(p)
    lin_params(files, "head", d, 5)  # the classifier, which an encoder load ignores
    vit_dir = os.path.join(OUT, "vit")
    os.makedirs(vit_dir, exist_ok=True)
    write_safetensors(os.path.join(vit_dir, "model.safetensors"), files, {"format": "pt"})

    gray = torch.randn(2, 1, img, img)
    p64 = {k: v.double() for k, v in p.items()}
    out = vit_forward(p64, gray.double().expand(-1, 3, -1, -1), heads, depth, patch).float()
    io = {"input.gray": gray, "out": out}
    grid = p64["pos_embed"][:, 1:].reshape(1, g, g, d).permute(0, 3, 1, 2)  # (1, D, G, G), row-major patches
    for to in (3, 4, 6):
        r = F.interpolate(grid, size=(to, to), mode="bilinear", align_corners=False, antialias=False)
        io[f"pos_embed.grid{to}"] = torch.cat([p64["pos_embed"][:, :1], r.permute(0, 2, 3, 1).reshape(1, to * to, d)], 1).float()
    write_safetensors(os.path.join(OUT, "vit_io.safetensors"), io)
    print("vit:", sum(v.numel() for v in p.values()), "parameters, out", list(out.shape))


os.makedirs(OUT, exist_ok=True)
write_wordpiece_golden()
write_bert()
write_vit()
