# Compiler settings that only scalekit's own targets link (scalekit::settings).

add_library(scalekit_settings INTERFACE)
add_library(scalekit::settings ALIAS scalekit_settings)
target_compile_options(scalekit_settings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wpedantic
  # Exact floating point: the Mandelbrot image must match CPython pixel for pixel,
  # and a fused multiply-add changes the rounding of z*z + c. Never contract.
  -ffp-contract=off)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 misreads a coroutine frame's class-level operator new/delete (Asio's
  # awaitable frames) as a mismatched pair under the sanitizers' optimizations.
  # A workaround listed in docs/DESIGN.md.
  target_compile_options(scalekit_settings INTERFACE -Wno-mismatched-new-delete)
  # GCC 12 reports impossible overlaps in std::string concatenation at -O3
  # (GCC bug 105651), which would fail -Werror builds.
  # A workaround listed in docs/DESIGN.md.
  target_compile_options(scalekit_settings INTERFACE -Wno-restrict)
endif()
if(SCALEKIT_WERROR)
  target_compile_options(scalekit_settings INTERFACE -Werror)
endif()

if(SCALEKIT_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SCALEKIT_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that TSan does not model atomic_thread_fence, which Asio's
    # scheduler uses; our event loops are single-threaded, and the warning
    # would stop -Werror builds.
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(-fsanitize=thread)
elseif(NOT SCALEKIT_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SCALEKIT_SANITIZE must be '', 'address' or 'thread', not '${SCALEKIT_SANITIZE}'")
endif()
