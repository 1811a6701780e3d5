#!/usr/bin/python3
"""Golden files for mlip.optim and mlip.io, computed by PyTorch (Debian's python3-torch):

  optim.safetensors   trajectories of torch.optim.AdamW (two param groups: decay / no decay, a parameter
                      that misses its gradient at one step) and torch.optim.SGD (momentum, Nesterov, weight
                      decay, a parameter whose first gradient comes late), in F64 and F32, and one
                      torch.nn.utils.clip_grad_norm_ call. Hyperparameters are in the file's __metadata__.
  dtypes.safetensors  BF16, F16 and I64 tensors as torch stores them, each beside the F32/I32 values torch
                      converts them to, so the Java reader's conversions are checked against torch's.

JUnit (OptimizerGoldenTest, SafetensorsTorchGoldenTest) reads them. Run from the repository root:

    apt-get install python3-torch && /usr/bin/python3 tools/reference/make_optim_io_golden.py

The safetensors writer below is written from the format's description (no safetensors package needed).
"""
import os

import torch

OUT = os.path.join("autograd", "src", "test", "resources", "golden")
torch.manual_seed(0)

from golden_io import write_safetensors  # noqa: E402  (this folder is on sys.path when run as a script)


STEPS = 4
LRS = [0.1, 0.05, 0.02, 0.01]
ADAM = dict(betas=(0.9, 0.98), eps=1e-8, weight_decay=0.1)
SGD = dict(momentum=0.9, weight_decay=0.01, nesterov=True)


def trajectories(out, dtype):
    tag = {torch.float64: "f64", torch.float32: "f32"}[dtype]
    w0 = torch.randn(3, 4, dtype=torch.float64).to(dtype)
    b0 = torch.randn(4, dtype=torch.float64).to(dtype)
    grads = [(torch.randn(3, 4, dtype=torch.float64).to(dtype) * (s + 1), torch.randn(4, dtype=torch.float64).to(dtype))
             for s in range(STEPS)]
    out[f"{tag}.init.fc.weight"] = w0
    out[f"{tag}.init.fc.bias"] = b0
    for s, (gw, gb) in enumerate(grads):
        out[f"{tag}.grad.{s}.fc.weight"] = gw
        out[f"{tag}.grad.{s}.fc.bias"] = gb

    # AdamW: fc.weight decays, fc.bias does not; fc.bias has no gradient at step 2.
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = torch.optim.AdamW([{"params": [w]}, {"params": [b], "weight_decay": 0.0}], lr=LRS[0], **ADAM)
    for s, (gw, gb) in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = LRS[s]
        w.grad = gw.clone()
        b.grad = None if s == 2 else gb.clone()
        opt.step()
        out[f"{tag}.adamw.{s}.fc.weight"] = w.detach().clone()
        out[f"{tag}.adamw.{s}.fc.bias"] = b.detach().clone()

    # SGD with Nesterov momentum and (coupled) weight decay on both; fc.bias has no gradient at step 0.
    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = torch.optim.SGD([w, b], lr=LRS[0], **SGD)
    for s, (gw, gb) in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = LRS[s]
        w.grad = gw.clone()
        b.grad = None if s == 0 else gb.clone()
        opt.step()
        out[f"{tag}.sgd.{s}.fc.weight"] = w.detach().clone()
        out[f"{tag}.sgd.{s}.fc.bias"] = b.detach().clone()


def clip(out):
    a = torch.randn(5, 3, dtype=torch.float64).requires_grad_()
    b = torch.randn(7, dtype=torch.float64).requires_grad_()
    a.grad = torch.randn(5, 3, dtype=torch.float64)
    b.grad = torch.randn(7, dtype=torch.float64) * 3
    out["clip.in.a"] = a.grad.clone()
    out["clip.in.b"] = b.grad.clone()
    total = torch.nn.utils.clip_grad_norm_([a, b], max_norm=2.0)
    out["clip.total_norm"] = total.detach().clone().reshape(())
    out["clip.out.a"] = a.grad.clone()
    out["clip.out.b"] = b.grad.clone()


def dtypes():
    vals = torch.tensor([1.0, -2.5, 3.14159265, 1e-3, 65504.0, 6e-8, 0.1, -0.0, 1e30, float("inf")], dtype=torch.float32)
    ints = torch.tensor([0, -1, 2**31 - 1, -2**31, 123456789, -987654321], dtype=torch.int64)
    t = {}
    t["bf16"] = vals.to(torch.bfloat16).reshape(2, 5)
    t["bf16.as_f32"] = t["bf16"].to(torch.float32)
    t["f16"] = vals.to(torch.float16).reshape(5, 2)    # 1e30 -> inf, 6e-8 -> a subnormal
    t["f16.as_f32"] = t["f16"].to(torch.float32)
    t["i64"] = ints.reshape(3, 2)
    t["i64.as_i32"] = ints.to(torch.int32).reshape(3, 2)
    t["f16.scalar"] = torch.tensor(0.333, dtype=torch.float16)
    t["f16.scalar.as_f32"] = t["f16.scalar"].to(torch.float32)
    t["bf16.empty"] = torch.zeros(0, 3, dtype=torch.bfloat16)
    return t


def main():
    os.makedirs(OUT, exist_ok=True)
    out = {}
    trajectories(out, torch.float64)
    trajectories(out, torch.float32)
    clip(out)
    meta = {"steps": STEPS, "lrs": ",".join(str(x) for x in LRS),
            "adamw.beta1": ADAM["betas"][0], "adamw.beta2": ADAM["betas"][1], "adamw.eps": ADAM["eps"],
            "adamw.weight_decay": ADAM["weight_decay"],
            "sgd.momentum": SGD["momentum"], "sgd.weight_decay": SGD["weight_decay"], "sgd.nesterov": SGD["nesterov"],
            "clip.max_norm": 2.0, "torch": torch.__version__}
    write_safetensors(os.path.join(OUT, "optim.safetensors"), out, meta)
    write_safetensors(os.path.join(OUT, "dtypes.safetensors"), dtypes(), {"torch": torch.__version__})


if __name__ == "__main__":
    main()
