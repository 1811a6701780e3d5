// crossentropy.cu — cross-entropy with label smoothing over contiguous logits (N, C) and I32 targets (N).
//
// Semantics are those of the CPU backend (tensor/.../cpu/Fused.crossEntropy) and of the autograd rule
// (autograd/.../Derivatives.crossEntropyBackward), with e = smoothing and q = (1 - e) onehot(t) + e / C:
//   forward:  loss[r] = logsumexp(x_r) - (1 - e) x_r[t] - e * sum_c(x_r[c]) / C   (= lse - sum_c q_c x_c)
//             0 for rows with t == ignoreIndex; a target outside [0, C) that is not ignoreIndex sets
//             *err = 1 + max(t, 0) (nonzero) and its row's loss to 0.
//   backward: dlogits[r, c] = dloss[r] * (softmax(x_r)_c - q_c); rows with t == ignoreIndex are 0.
//             (A target outside [0, C) never matches a class, so no out-of-range read; the forward
//             has already reported it.)
// As in the CPU backend, a row whose max is not finite (NaN, +inf, all -inf) has NaN logsumexp and
// NaN softmax.
//
// Versions
//   crossentropy_forward_kernel1_<t>, crossentropy_backward_kernel1_<t> (production, f32/f64): one warp
//   per row; the lanes keep an online (max, sum exp) pair (and the forward a plain sum for the
//   smoothing term) in one coalesced read of the row, merged with butterfly shuffles. Forward: 1 read
//   per element, 1 write per row. Backward: 2 reads + 1 write per element. Block 256 (8 rows), grid
//   ceil(N / 8).
#include "common.cuh"

template <typename T>
static __device__ void crossentropy_forward(T* loss, const T* logits, const int* target, int N, int C, int ignoreIndex,
                                           double smoothing, int* err) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= N) return;  // whole warps leave together
    int t = target[row];
    if (t == ignoreIndex) {
        if (lane == 0) loss[row] = (T)0;
        return;
    }
    if (t < 0 || t >= C) {
        if (lane == 0) {
            atomicExch(err, 1 + (t > 0 ? t : 0));
            loss[row] = (T)0;
        }
        return;
    }
    const T* xr = logits + (long long)row * C;
    T m = (T)-INFINITY, s = (T)0, total = (T)0;
    for (int i = lane; i < C; i += 32) {
        T v = xr[i];
        online_softmax_add(m, s, v);
        total += v;
    }
    online_softmax_warp_merge(m, s);
    total = warp_sum(total);
    if (lane == 0) {
        T e = (T)smoothing;
        T lse = m + mlip_log(s);
        loss[row] = lse - ((T)1 - e) * xr[t] - e * total / (T)C;
    }
}

template <typename T>
static __device__ void crossentropy_backward(T* dlogits, const T* logits, const int* target, const T* dloss, int N, int C,
                                            int ignoreIndex, double smoothing) {
    int lane = threadIdx.x & 31;
    int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= N) return;  // whole warps leave together
    int t = target[row];
    T* dr = dlogits + (long long)row * C;
    if (t == ignoreIndex) {
        for (int i = lane; i < C; i += 32) dr[i] = (T)0;
        return;
    }
    const T* xr = logits + (long long)row * C;
    T m = (T)-INFINITY, s = (T)0;
    for (int i = lane; i < C; i += 32) online_softmax_add(m, s, xr[i]);
    online_softmax_warp_merge(m, s);
    T inv = (T)1 / s;
    T g = dloss[row];
    T e = (T)smoothing;
    T qOff = e / (T)C, qOn = ((T)1 - e) + e / (T)C;
    for (int i = lane; i < C; i += 32) {
        T p = mlip_exp(xr[i] - m) * inv;
        dr[i] = g * (p - (i == t ? qOn : qOff));
    }
}

extern "C" __global__ void crossentropy_forward_kernel1_f32(float* loss, const float* logits, const int* target, int N, int C,
                                                            int ignoreIndex, double smoothing, int* err) {
    crossentropy_forward<float>(loss, logits, target, N, C, ignoreIndex, smoothing, err);
}

extern "C" __global__ void crossentropy_forward_kernel1_f64(double* loss, const double* logits, const int* target, int N, int C,
                                                            int ignoreIndex, double smoothing, int* err) {
    crossentropy_forward<double>(loss, logits, target, N, C, ignoreIndex, smoothing, err);
}

extern "C" __global__ void crossentropy_backward_kernel1_f32(float* dlogits, const float* logits, const int* target, const float* dloss,
                                                             int N, int C, int ignoreIndex, double smoothing) {
    crossentropy_backward<float>(dlogits, logits, target, dloss, N, C, ignoreIndex, smoothing);
}

extern "C" __global__ void crossentropy_backward_kernel1_f64(double* dlogits, const double* logits, const int* target,
                                                             const double* dloss, int N, int C, int ignoreIndex, double smoothing) {
    crossentropy_backward<double>(dlogits, logits, target, dloss, N, C, ignoreIndex, smoothing);
}
