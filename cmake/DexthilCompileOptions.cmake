# Warnings and sanitizers for the project's own code. Verilator's generated C++ is built in its
# own target without -Werror: its output is not ours to keep warning-free.
add_library(dexthil_warnings INTERFACE)
target_compile_options(dexthil_warnings INTERFACE -Wall -Wextra -Werror)
# GCC 12 reports -Wrestrict on plain std::string concatenation at -O2 and above (GCC bug 105651),
# a false positive that would otherwise force contortions in ordinary string-building code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(dexthil_warnings INTERFACE -Wno-restrict)
endif()

# Every test gets this environment (an ENVIRONMENT property must not be empty, hence the marker).
set(DEXTHIL_TEST_ENVIRONMENT "DEXTHIL_TEST=1")
if(DEXTHIL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # What a dext leaks (on purpose in the tests' planted mistakes, or by crashing) is a finding,
  # not a harness leak: LeakSanitizer ignores allocations made from dext code.
  set(DEXTHIL_TEST_ENVIRONMENT "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/cmake/lsan-dexts.supp")
endif()

# dexthil_test(NAME SOURCES ... LIBS ... [LABEL label]): one GoogleTest binary, every case a CTest
# test carrying one label (default "unit"; gtest_discover_tests cannot pass a list through).
function(dexthil_test name)
  cmake_parse_arguments(T "" "LABEL" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} dexthil_warnings GTest::gtest GTest::gtest_main)
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    PROPERTIES LABELS ${T_LABEL} ENVIRONMENT "${DEXTHIL_TEST_ENVIRONMENT}"
    DISCOVERY_TIMEOUT 60)
endfunction()
