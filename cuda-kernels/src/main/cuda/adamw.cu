// adamw.cu — one fused AdamW step over a parameter (f32).
//
// Contract: cuda-kernels/KERNELS.md ("adamw.cu"); reference: autograd/src/main/java/mlip/optim/AdamW.java,
// which is PyTorch's torch.optim.AdamW step for step. Per element, with bc1 = 1 - beta1^t and
// bc2 = 1 - beta2^t computed by the caller:
//   p = p * (1 - lr * weightDecay)             (the caller passes weightDecay = 0 for no-decay parameters)
//   m = m + (1 - beta1) * (g - m)              (PyTorch's m.lerp_(g, 1 - beta1), as AdamW.java writes it;
//                                               equal to beta1 * m + (1 - beta1) * g up to rounding)
//   v = v * beta2 + (g * g) * (1 - beta2)
//   p = p - (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
// In float, like the F32 tensor ops of the reference (which round each op's scalar to float); results
// match within F32 tolerance (FMA contraction may change the last bit).
//
// Versions:
//   adamw_kernel1 (production): grid-stride, block 256, grid min(ceil(n/256), 32 * SMs); one pass that
//       reads p, g, m, v and writes p, m, v (28 bytes per parameter) instead of the reference's dozen
//       temporaries per step.
#include "common.cuh"

extern "C" __global__ void adamw_kernel1_f32(float* p, const float* g, float* m, float* v, int n, float lr, float beta1,
                                             float beta2, float eps, float weightDecay, float bc1, float bc2) {
    float decay = 1.0f - lr * weightDecay;
    float stepSize = lr / bc1;
    float bc2Sqrt = sqrtf(bc2);
    float w1 = 1.0f - beta1, w2 = 1.0f - beta2;
    GRID_STRIDE_LOOP(i, n) {
        float gi = g[i];
        float mi = m[i] + w1 * (gi - m[i]);
        float vi = v[i] * beta2 + (gi * gi) * w2;
        float denom = sqrtf(vi) / bc2Sqrt + eps;
        p[i] = p[i] * decay - stepSize * (mi / denom);
        m[i] = mi;
        v[i] = vi;
    }
}
