// The vector targets every Highway kernel of scalekit is compiled for (x86:
// AVX3, AVX2, SSE4 and the baseline); core/simd_target.h picks one at run time.
// Include first in a kernel file, before its HWY_TARGET_INCLUDE and
// <hwy/foreach_target.h>. No include guard: foreach_target re-includes the
// kernel file once per target, and this must be seen only the first time,
// which the #ifndef below ensures.
#if defined(__x86_64__) && !defined(HWY_TARGETS)
#define HWY_TARGETS (HWY_AVX3 | HWY_AVX2 | HWY_SSE4 | HWY_STATIC_TARGET)
#define SCALEKIT_X86_DISPATCH 1
#endif
