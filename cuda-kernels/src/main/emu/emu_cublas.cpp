// emu_cublas.cpp — libcublas.so.12 of the CUDA emulator: the few cuBLAS calls the project makes, with
// cuBLAS' semantics written as plain loops (DESIGN.md section 6).
//
// cuBLAS is column-major: element (i, j) of an m x n matrix with leading dimension ld is at [i + j*ld].
// GEMM computes C = alpha * op(A) op(B) + beta * C, with op(A) m x k, op(B) k x n, C m x n; op is
// N (0, as stored), T (1, transposed) or C (2, conjugate-transposed = transposed for real types).
// Device pointers are host addresses in the emulator, so A, B, C (and alpha, beta, in either pointer
// mode) are read directly. Everything is synchronous; the stream is only remembered.
//
// Not a fast GEMM: the emulator checks that the Java side drives cuBLAS correctly (argument order,
// leading dimensions, the row-major/column-major trick), not speed.
#include <cstddef>
#include <vector>

#define API extern "C" __attribute__((visibility("default")))

typedef int cublasStatus_t;
enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
};
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };

struct cublasContext {
    void* stream;
    int pointer_mode;  // 0 host, 1 device: the same memory here
    int math_mode;
};
typedef cublasContext* cublasHandle_t;

namespace {

bool valid_op(int op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }
int max1(int v) { return v > 1 ? v : 1; }

// The argument checks cuBLAS makes (it returns INVALID_VALUE without touching C).
cublasStatus_t check(cublasHandle_t h, int ta, int tb, int m, int n, int k, int lda, int ldb, int ldc) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!valid_op(ta) || !valid_op(tb) || m < 0 || n < 0 || k < 0) return CUBLAS_STATUS_INVALID_VALUE;
    if (lda < max1(ta == CUBLAS_OP_N ? m : k)) return CUBLAS_STATUS_INVALID_VALUE;  // A is m x k or k x m
    if (ldb < max1(tb == CUBLAS_OP_N ? k : n)) return CUBLAS_STATUS_INVALID_VALUE;  // B is k x n or n x k
    if (ldc < max1(m)) return CUBLAS_STATUS_INVALID_VALUE;
    return CUBLAS_STATUS_SUCCESS;
}

// One GEMM. Products are summed over p = 0..k-1 in order, in T (float for S, double for D).
template <class T>
void gemm(int ta, int tb, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb, T beta, T* C,
          int ldc) {
    auto a = [&](int i, int p) { return ta == CUBLAS_OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda]; };
    auto b = [&](int p, int j) { return tb == CUBLAS_OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb]; };
    std::vector<T> acc(m);
    for (int j = 0; j < n; j++) {
        T* c = C + (size_t)j * ldc;
        if (alpha != T(0) && k > 0) {
            // Column j of op(A) op(B). With op(A) = N the loop runs down A's columns (contiguous); the
            // order of the sum for each element is p = 0, 1, ... either way.
            for (int i = 0; i < m; i++) acc[i] = T(0);
            if (ta == CUBLAS_OP_N) {
                for (int p = 0; p < k; p++) {
                    T bp = b(p, j);
                    const T* ap = A + (size_t)p * lda;
                    for (int i = 0; i < m; i++) acc[i] += ap[i] * bp;
                }
            } else {
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++) acc[i] += a(i, p) * b(p, j);
            }
        }
        for (int i = 0; i < m; i++) {
            T v = (alpha != T(0) && k > 0) ? alpha * acc[i] : T(0);
            // beta == 0: C is not read (it may hold NaN or garbage), exactly as in cuBLAS.
            c[i] = beta == T(0) ? v : v + beta * c[i];
        }
    }
}

template <class T>
cublasStatus_t gemm_batched(cublasHandle_t h, int ta, int tb, int m, int n, int k, const T* alpha, const T* A, int lda,
                            long long sa, const T* B, int ldb, long long sb, const T* beta, T* C, int ldc,
                            long long sc, int batch) {
    if (cublasStatus_t s = check(h, ta, tb, m, n, k, lda, ldb, ldc)) return s;
    if (!alpha || !beta || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
    for (int z = 0; z < batch; z++) gemm(ta, tb, m, n, k, *alpha, A + z * sa, lda, B + z * sb, ldb, *beta, C + z * sc, ldc);
    return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

API cublasStatus_t cublasCreate_v2(cublasHandle_t* h) {
    if (!h) return CUBLAS_STATUS_INVALID_VALUE;
    *h = new cublasContext{nullptr, 0, 0};
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasDestroy_v2(cublasHandle_t h) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasGetVersion_v2(cublasHandle_t h, int* v) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!v) return CUBLAS_STATUS_INVALID_VALUE;
    *v = 120000;  // 12.0.0
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasSetStream_v2(cublasHandle_t h, void* stream) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->stream = stream;
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasGetStream_v2(cublasHandle_t h, void** stream) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
    *stream = h->stream;
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t h, int mode) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode != 0 && mode != 1) return CUBLAS_STATUS_INVALID_VALUE;
    h->pointer_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t h, int* mode) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
    *mode = h->pointer_mode;
    return CUBLAS_STATUS_SUCCESS;
}

// Math modes (TF32 tensor ops, ...) are accepted and change nothing: the loops are exact-type.
API cublasStatus_t cublasSetMathMode(cublasHandle_t h, int mode) {
    if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
    h->math_mode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

API cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t h, void*, size_t) {
    return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

API cublasStatus_t cublasSgemm_v2(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float* alpha,
                                  const float* A, int lda, const float* B, int ldb, const float* beta, float* C,
                                  int ldc) {
    return gemm_batched<float>(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

API cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, int ta, int tb, int m, int n, int k, const float* alpha,
                                             const float* A, int lda, long long sa, const float* B, int ldb,
                                             long long sb, const float* beta, float* C, int ldc, long long sc,
                                             int batch) {
    return gemm_batched<float>(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}

API cublasStatus_t cublasDgemm_v2(cublasHandle_t h, int ta, int tb, int m, int n, int k, const double* alpha,
                                  const double* A, int lda, const double* B, int ldb, const double* beta, double* C,
                                  int ldc) {
    return gemm_batched<double>(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}

API cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, int ta, int tb, int m, int n, int k,
                                             const double* alpha, const double* A, int lda, long long sa,
                                             const double* B, int ldb, long long sb, const double* beta, double* C,
                                             int ldc, long long sc, int batch) {
    return gemm_batched<double>(h, ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
}
