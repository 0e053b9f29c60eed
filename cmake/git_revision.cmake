# Writes OUT (a header defining SCALEKIT_GIT_REVISION) from `git describe` of
# SOURCE_DIR, run at every build, and touches OUT only when the revision
# changed, so that a commit is recorded without recompiling anything else.
execute_process(COMMAND git -C "${SOURCE_DIR}" describe --always --dirty
                OUTPUT_VARIABLE revision OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
set(text "#pragma once\n#define SCALEKIT_GIT_REVISION \"${revision}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
