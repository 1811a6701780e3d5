#!/usr/bin/python3
"""Golden files for the nn layers: PyTorch (Debian's python3-torch) computes forward outputs and every
gradient of sum(out * probe) for tiny configs of each layer, written as safetensors under
autograd/src/test/resources/golden/. JUnit (NnGoldenTest) rebuilds each layer in Java, loads the weights
by name, and compares. Run from the repository root:

    apt-get install python3-torch && /usr/bin/python3 tools/reference/make_nn_golden.py   # Debian's python, where torch is

The models are written here in plain torch with the same parameter names as the Java modules (timm's
ViT names, Hugging Face BERT names), so the check is of the math, not of a library's code.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_io import write_safetensors

OUT = os.path.join("autograd", "src", "test", "resources", "golden")
torch.manual_seed(0)


def attention(q, k, v, pad):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if pad is not None:
        s = s.masked_fill(pad[:, None, None, :].bool(), float("-inf"))
    return s.softmax(-1) @ v


class MHA(nn.Module):  # timm names
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x, pad=None):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        o = attention(qkv[0], qkv[1], qkv[2], pad)
        return self.proj(o.permute(0, 2, 1, 3).reshape(b, t, d))


class Mlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):  # pre-LN, timm names
    def __init__(self, d, h, hidden, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = MHA(d, h)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(d, hidden)

    def forward(self, x, pad=None):
        x = x + self.attn(self.norm1(x), pad)
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, c, p, d):
        super().__init__()
        self.proj = nn.Conv2d(c, d, p, stride=p)


class ViT(nn.Module):
    def __init__(self, img, p, c, d, depth, h, hidden):
        super().__init__()
        self.patch_embed = PatchEmbed(c, p, d)
        n = (img // p) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + n, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, h, hidden, 1e-6) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)

    def forward(self, images, keep=None):
        x = self.patch_embed.proj(images).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        if keep is not None:
            x = torch.gather(x, 1, keep.long()[:, :, None].expand(-1, -1, x.shape[-1]))
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], 1)
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


class BertLayer(nn.Module):  # Hugging Face names
    def __init__(self, d, h, hidden):
        super().__init__()
        self.h = h
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        self.attention.self.query = nn.Linear(d, d)
        self.attention.self.key = nn.Linear(d, d)
        self.attention.self.value = nn.Linear(d, d)
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.attention.output.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, hidden)
        self.output = nn.Module()
        self.output.dense = nn.Linear(hidden, d)
        self.output.LayerNorm = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x, pad):
        b, t, d = x.shape
        split = lambda y: y.reshape(b, t, self.h, d // self.h).permute(0, 2, 1, 3)
        s = self.attention.self
        a = attention(split(s.query(x)), split(s.key(x)), split(s.value(x)), pad).permute(0, 2, 1, 3).reshape(b, t, d)
        x = self.attention.output.LayerNorm(x + self.attention.output.dense(a))
        return self.output.LayerNorm(x + self.output.dense(F.gelu(self.intermediate.dense(x))))


class Bert(nn.Module):
    def __init__(self, vocab, maxpos, types, d, depth, h, hidden):
        super().__init__()
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(vocab, d)
        self.embeddings.position_embeddings = nn.Embedding(maxpos, d)
        self.embeddings.token_type_embeddings = nn.Embedding(types, d)
        self.embeddings.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([BertLayer(d, h, hidden) for _ in range(depth)])

    def forward(self, ids, mask):
        e = self.embeddings
        pos = torch.arange(ids.shape[1])[None].expand_as(ids)
        x = e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(pos) + e.token_type_embeddings(torch.zeros_like(ids)))
        for layer in self.encoder.layer:
            x = layer(x, mask == 0)
        return x


class Stack(nn.Module):  # Linear + GELU(tanh and erf) + LayerNorm
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.ln = nn.LayerNorm(16, eps=1e-5)

    def forward(self, x):
        h = self.fc(x)
        return self.ln(F.gelu(h) + F.gelu(h, approximate="tanh"))


def golden(name, model, inputs, grad_inputs=()):
    """Saves param.*, input.*, out, probe and grad.* (params and float inputs) for sum(out * probe)."""
    for k in grad_inputs:
        inputs[k].requires_grad_(True)
    out = model(*inputs.values())
    probe = torch.randn(out.shape)
    (out * probe).sum().backward()
    t = {"param." + k: v for k, v in model.state_dict().items()}
    t.update({"input." + k: (v.to(torch.int32) if not v.is_floating_point() else v) for k, v in inputs.items() if v is not None})
    t["out"] = out
    t["probe"] = probe
    t.update({"grad." + k: p.grad for k, p in model.named_parameters()})
    t.update({"grad.input." + k: inputs[k].grad for k in grad_inputs})
    write_safetensors(os.path.join(OUT, name + ".safetensors"), t)
    print(name, {k: list(v.shape) for k, v in t.items() if k in ("out",)})


os.makedirs(OUT, exist_ok=True)
golden("stack", Stack(), {"x": torch.randn(4, 8)}, ["x"])
pad = torch.tensor([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]], dtype=torch.int32)
golden("mha", MHA(12, 3), {"x": torch.randn(2, 5, 12), "pad": pad}, ["x"])
golden("block", Block(12, 3, 24, 1e-6), {"x": torch.randn(2, 5, 12)}, ["x"])
golden("vit", ViT(8, 4, 1, 12, 2, 3, 24), {"images": torch.randn(2, 1, 8, 8)})
golden("vit_keep", ViT(8, 4, 1, 12, 2, 3, 24), {"images": torch.randn(2, 1, 8, 8), "keep": torch.tensor([[3, 0], [1, 2]], dtype=torch.int32)})
ids = torch.tensor([[2, 7, 11, 4, 0, 0], [5, 1, 9, 13, 17, 3]])
mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
golden("bert", Bert(20, 16, 2, 12, 2, 3, 24), {"ids": ids, "mask": mask})
