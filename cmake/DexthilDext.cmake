# dexthil_add_dext(NAME
#                  IIG <class.iig>...
#                  SOURCES <file.cpp|file.c>...
#                  PLIST <Info.plist>
#                  [ENTITLEMENTS <file.entitlements>]
#                  [DEFINITIONS <NAME[=VALUE]>...]
#                  [INCLUDE_DIRS <dir>...]
#                  [WARNINGS_AS_ERRORS]
#                  [NO_LINT])
#
# Builds a dext from its own sources as a shared object the harness loads (`dexthil run` with a
# [[dext]] entry, or driverkit::Kernel::load_dext):
#  - runs dexthil-iig on each .iig, giving <class>.h and <class>.iig.cpp;
#  - compiles the sources and the generated code with clang (C blocks need -fblocks, which GCC
#    lacks) against the harness's DriverKit headers, as Xcode compiles a dext: C++ as gnu++20,
#    C (.c) as gnu17, Xcode's default warnings (warnings, not errors, unless
#    WARNINGS_AS_ERRORS), TARGET_OS_DRIVERKIT defined and __builtin_available(driverkit ...)
#    accepted (<dexthil_dext_prelude.h> is included first);
#  - links lib<NAME>.so against the blocks runtime (libblocksruntime-dev); DriverKit itself is resolved when the
#    harness loads the dext, as on macOS;
#  - checks the Info.plist with `dexthil lint-plist` (with ENTITLEMENTS when given) and fails the
#    build on a finding, unless NO_LINT.
# The result is the bundle ${CMAKE_CURRENT_BINARY_DIR}/NAME.dext/ holding libNAME.so and
# Info.plist; the target NAME gets the properties DEXT_BUNDLE, DEXT_LIBRARY and DEXT_PLIST.
#
# Needs DEXTHIL_IIG (the dexthil-iig executable), DEXTHIL_DRIVERKIT_INCLUDE_DIR and, unless
# NO_LINT, DEXTHIL_CLI (the dexthil executable); inside dexthil's build they name its targets,
# outside it find_package(dexthil) sets them.

find_program(DEXTHIL_DEXT_CXX NAMES clang++-14 clang++ DOC "C++ compiler for dexts (needs -fblocks)")
find_program(DEXTHIL_DEXT_CC NAMES clang-14 clang DOC "C compiler for dexts' C sources (needs -fblocks)")

# Xcode's default warnings for a new DriverKit target (its CLANG_WARN_* and GCC_WARN_* build
# settings), so a dext that builds cleanly in Xcode builds cleanly here. -Wformat stays on: on
# Linux uint64_t is unsigned long, where macOS has unsigned long long, so a correct "%llx" of
# a uint64_t draws a warning here that Xcode would not give.
set(DEXTHIL_DEXT_WARNINGS -Wno-trigraphs -Wno-missing-field-initializers -Wno-missing-prototypes -Werror=return-type
  -Wunreachable-code -Wno-non-virtual-dtor -Wno-overloaded-virtual -Wno-exit-time-destructors -Wno-missing-braces
  -Wparentheses -Wswitch -Wunused-function -Wno-unused-label -Wno-unused-parameter -Wunused-variable -Wunused-value
  -Wempty-body -Wuninitialized -Wconditional-uninitialized -Wno-unknown-pragmas -Wno-shadow -Wno-four-char-constants
  -Wno-conversion -Wconstant-conversion -Wint-conversion -Wbool-conversion -Wenum-conversion -Wno-float-conversion
  -Wnon-literal-null-conversion -Wshorten-64-to-32 -Wno-newline-eof -Wdeprecated-declarations -Winvalid-offsetof
  -Wno-sign-conversion -Winfinite-recursion -Wmove -Wcomma -Wrange-loop-analysis)

function(dexthil_add_dext name)
  cmake_parse_arguments(D "NO_LINT;WARNINGS_AS_ERRORS" "PLIST;ENTITLEMENTS" "IIG;SOURCES;DEFINITIONS;INCLUDE_DIRS" ${ARGN})
  if(NOT D_IIG OR NOT D_SOURCES OR NOT D_PLIST)
    message(FATAL_ERROR "dexthil_add_dext(${name}): IIG, SOURCES and PLIST are required")
  endif()
  if(NOT DEXTHIL_DEXT_CXX)
    message(FATAL_ERROR "dexthil_add_dext(${name}): no clang++ found; install clang-14")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.dext)
  set(gen ${out}/generated)
  file(MAKE_DIRECTORY ${gen})

  set(headers)
  set(all_sources)
  foreach(src ${D_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND all_sources ${abs})
  endforeach()
  foreach(iig ${D_IIG})
    get_filename_component(abs ${iig} ABSOLUTE)
    get_filename_component(base ${iig} NAME_WE)
    add_custom_command(
      OUTPUT ${gen}/${base}.h ${gen}/${base}.iig.cpp
      COMMAND ${DEXTHIL_IIG} ${abs} --header ${gen}/${base}.h --impl ${gen}/${base}.iig.cpp
      DEPENDS ${abs} ${DEXTHIL_IIG}
      COMMENT "iig ${name}: ${iig}"
      VERBATIM)
    list(APPEND headers ${gen}/${base}.h)
    list(APPEND all_sources ${gen}/${base}.iig.cpp)
  endforeach()

  set(common_flags -fblocks -fPIC -O1 -g ${DEXTHIL_DEXT_WARNINGS}
                   -include dexthil_dext_prelude.h
                   -I${gen} -I${CMAKE_CURRENT_SOURCE_DIR} -I${DEXTHIL_DRIVERKIT_INCLUDE_DIR})
  if(D_WARNINGS_AS_ERRORS)
    list(APPEND common_flags -Wall -Werror)
  endif()
  foreach(def ${D_DEFINITIONS})
    list(APPEND common_flags -D${def})
  endforeach()
  foreach(dir ${D_INCLUDE_DIRS})
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND common_flags -I${dir})
  endforeach()
  set(objects)
  set(n 0)
  foreach(src ${all_sources})
    get_filename_component(base ${src} NAME)
    set(obj ${out}/obj/${n}-${base}.o)
    math(EXPR n "${n} + 1")
    if(src MATCHES "\\.c$")
      if(NOT DEXTHIL_DEXT_CC)
        message(FATAL_ERROR "dexthil_add_dext(${name}): no clang found for ${base}; install clang-14")
      endif()
      set(compile ${DEXTHIL_DEXT_CC} -std=gnu17 ${common_flags})
    else()
      set(compile ${DEXTHIL_DEXT_CXX} -std=gnu++20 ${common_flags})
    endif()
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${compile} -MD -MF ${obj}.d -c ${src} -o ${obj}
      DEPENDS ${src} ${headers}
      DEPFILE ${obj}.d
      COMMENT "dext ${name}: ${base}"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  file(MAKE_DIRECTORY ${out}/obj)

  set(library ${out}/lib${name}.so)
  add_custom_command(
    OUTPUT ${library}
    COMMAND ${DEXTHIL_DEXT_CXX} -shared -o ${library} ${objects} -lBlocksRuntime
    DEPENDS ${objects}
    COMMENT "dext ${name}: lib${name}.so"
    VERBATIM)

  # The bundle: NAME.dext/ with libNAME.so and a copy of Info.plist, as `dexthil run` loads it.
  get_filename_component(plist ${D_PLIST} ABSOLUTE)
  add_custom_command(
    OUTPUT ${out}/Info.plist
    COMMAND ${CMAKE_COMMAND} -E copy ${plist} ${out}/Info.plist
    DEPENDS ${plist}
    VERBATIM)
  set(outputs ${library} ${out}/Info.plist)
  if(NOT D_NO_LINT)
    set(lint_args)
    if(D_ENTITLEMENTS)
      get_filename_component(entitlements ${D_ENTITLEMENTS} ABSOLUTE)
      set(lint_args --entitlements ${entitlements})
    endif()
    add_custom_command(
      OUTPUT ${out}/lint.stamp
      COMMAND ${DEXTHIL_CLI} lint-plist ${lint_args} ${plist}
      COMMAND ${CMAKE_COMMAND} -E touch ${out}/lint.stamp
      DEPENDS ${plist} ${entitlements} ${DEXTHIL_CLI}
      COMMENT "dext ${name}: lint ${D_PLIST}"
      VERBATIM)
    list(APPEND outputs ${out}/lint.stamp)
  endif()
  add_custom_target(${name} ALL DEPENDS ${outputs})
  set_target_properties(${name} PROPERTIES DEXT_BUNDLE ${out} DEXT_LIBRARY ${library} DEXT_PLIST ${out}/Info.plist)
endfunction()
