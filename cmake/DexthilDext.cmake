# dexthil_add_dext(NAME
#                  IIG <class.iig>...
#                  SOURCES <file.cpp|file.c>...
#                  [CXX_SOURCES <file>...]
#                  PLIST <Info.plist>
#                  [ENTITLEMENTS <file.entitlements>]
#                  [DEFINITIONS <NAME[=VALUE]>...]
#                  [INCLUDE_DIRS <dir>...]
#                  [BUILD_SETTINGS <NAME=VALUE>...]
#                  [WARNINGS_AS_ERRORS]
#                  [NO_LINT])
#
# Builds a dext from its own sources as a shared object the harness loads (`dexthil run` with a
# [[dext]] entry, or driverkit::Kernel::load_dext):
#  - runs dexthil-iig on each .iig, giving <class>.h and <class>.iig.cpp;
#  - compiles the sources and the generated code with clang (C blocks need -fblocks, which GCC
#    lacks) against the harness's DriverKit headers, as Xcode compiles a dext: C++ as gnu++20,
#    C (.c in SOURCES) as gnu17, and CXX_SOURCES as C++ whatever their extension (a .c file
#    whose type in an Xcode project is C++), Xcode's default warnings (warnings, not errors, unless
#    WARNINGS_AS_ERRORS), __APPLE__ and __MACH__ defined and __linux__ not, TARGET_OS_DRIVERKIT
#    defined and __builtin_available(driverkit ...) accepted (<dexthil_dext_prelude.h> is
#    included first);
#  - links lib<NAME>.so against the blocks runtime (libblocksruntime-dev); DriverKit itself is resolved when the
#    harness loads the dext, as on macOS;
#  - writes the bundle's Info.plist with its build settings ($(NAME), ${NAME}) expanded, as Xcode
#    does (`dexthil expand-plist`): TARGET_NAME, PRODUCT_NAME and EXECUTABLE_NAME are NAME,
#    PRODUCT_BUNDLE_PACKAGE_TYPE is DEXT and DEVELOPMENT_LANGUAGE en, and BUILD_SETTINGS adds
#    or overrides others (PRODUCT_BUNDLE_IDENTIFIER=com.example.MyDriver);
#  - checks the Info.plist with `dexthil lint-plist` and the same settings (with ENTITLEMENTS
#    when given) and fails the build on a finding, unless NO_LINT.
# The result is the bundle ${CMAKE_CURRENT_BINARY_DIR}/NAME.dext/ holding libNAME.so and
# Info.plist; the target NAME gets the properties DEXT_BUNDLE, DEXT_LIBRARY and DEXT_PLIST.
#
# Needs DEXTHIL_IIG (the dexthil-iig executable), DEXTHIL_DRIVERKIT_INCLUDE_DIR and DEXTHIL_CLI
# (the dexthil executable); inside dexthil's build they name its targets, outside it
# find_package(dexthil) sets them.

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

# The target's predefined macros as Apple's clang sets them for a dext: __APPLE__ and __MACH__,
# and none of Linux's, so code (and libraries a dext embeds) that picks its platform with
# #ifdef __APPLE__ takes the macOS path, as it does in Xcode. What else looks at them: libstdc++
# names the current thread by __linux__, and clang's own headers choose max_align_t's
# definition and whether float.h and tgmath.h include the C library's by __APPLE__. The C and
# C++ headers a dext uses compile either way, and no type the dext shares with the harness
# depends on them.
set(DEXTHIL_DEXT_TARGET_MACROS -D__APPLE__=1 -D__MACH__=1 -U__linux__ -U__linux -Ulinux -U__gnu_linux__)

function(dexthil_add_dext name)
  cmake_parse_arguments(D "NO_LINT;WARNINGS_AS_ERRORS" "PLIST;ENTITLEMENTS"
                        "IIG;SOURCES;CXX_SOURCES;DEFINITIONS;INCLUDE_DIRS;BUILD_SETTINGS" ${ARGN})
  if(NOT D_IIG OR NOT (D_SOURCES OR D_CXX_SOURCES) OR NOT D_PLIST)
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
  set(forced_cxx)
  foreach(src ${D_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND all_sources ${abs})
  endforeach()
  foreach(src ${D_CXX_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    list(APPEND all_sources ${abs})
    list(APPEND forced_cxx ${abs})
  endforeach()
  # Xcode also makes each generated header reachable as <bundle-id/Name.h> (public dexts include
  # it so): the bundle identifier from the Info.plist, or from PRODUCT_BUNDLE_IDENTIFIER when the
  # plist takes it from the build settings.
  set(bundle_id)
  file(READ ${D_PLIST} plist_text)
  if(plist_text MATCHES "<key>CFBundleIdentifier</key>[ \t\r\n]*<string>([^<]*)</string>")
    set(bundle_id ${CMAKE_MATCH_1})
  endif()
  foreach(setting ${D_BUILD_SETTINGS})
    if(setting MATCHES "^PRODUCT_BUNDLE_IDENTIFIER=(.*)$")
      string(REPLACE "$(PRODUCT_BUNDLE_IDENTIFIER)" "${CMAKE_MATCH_1}" bundle_id "${bundle_id}")
    endif()
  endforeach()
  if(bundle_id MATCHES "[$/]")
    set(bundle_id)  # unexpanded or not a name: no such folder
  endif()
  foreach(iig ${D_IIG})
    get_filename_component(abs ${iig} ABSOLUTE)
    get_filename_component(base ${iig} NAME_WE)
    if(bundle_id)
      file(MAKE_DIRECTORY ${gen}/${bundle_id})
      file(WRITE ${gen}/${bundle_id}/${base}.h "// <${bundle_id}/${base}.h>, as Xcode makes it reachable.\n#include \"../${base}.h\"\n")
    endif()
    add_custom_command(
      OUTPUT ${gen}/${base}.h ${gen}/${base}.iig.cpp
      COMMAND ${DEXTHIL_IIG} ${abs} --header ${gen}/${base}.h --impl ${gen}/${base}.iig.cpp
      DEPENDS ${abs} ${DEXTHIL_IIG}
      COMMENT "iig ${name}: ${iig}"
      VERBATIM)
    list(APPEND headers ${gen}/${base}.h)
    list(APPEND all_sources ${gen}/${base}.iig.cpp)
  endforeach()

  set(common_flags -fblocks -fPIC -O1 -g ${DEXTHIL_DEXT_WARNINGS} ${DEXTHIL_DEXT_TARGET_MACROS}
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
    if(src IN_LIST forced_cxx)
      set(compile ${DEXTHIL_DEXT_CXX} -std=gnu++20 ${common_flags} -x c++)
    elseif(src MATCHES "\\.c$")
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

  # The bundle: NAME.dext/ with libNAME.so and the Info.plist as Xcode would install it (build
  # settings expanded), as `dexthil run` loads it.
  get_filename_component(plist ${D_PLIST} ABSOLUTE)
  set(setting_args)
  foreach(setting TARGET_NAME=${name} PRODUCT_NAME=${name} EXECUTABLE_NAME=${name} PRODUCT_BUNDLE_PACKAGE_TYPE=DEXT
          DEVELOPMENT_LANGUAGE=en ${D_BUILD_SETTINGS})
    list(APPEND setting_args --setting ${setting})
  endforeach()
  add_custom_command(
    OUTPUT ${out}/Info.plist
    COMMAND ${DEXTHIL_CLI} expand-plist ${setting_args} ${plist} ${out}/Info.plist
    DEPENDS ${plist} ${DEXTHIL_CLI}
    COMMENT "dext ${name}: Info.plist"
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
      COMMAND ${DEXTHIL_CLI} lint-plist ${lint_args} ${setting_args} ${plist}
      COMMAND ${CMAKE_COMMAND} -E touch ${out}/lint.stamp
      DEPENDS ${plist} ${entitlements} ${DEXTHIL_CLI}
      COMMENT "dext ${name}: lint ${D_PLIST}"
      VERBATIM)
    list(APPEND outputs ${out}/lint.stamp)
  endif()
  add_custom_target(${name} ALL DEPENDS ${outputs})
  set_target_properties(${name} PROPERTIES DEXT_BUNDLE ${out} DEXT_LIBRARY ${library} DEXT_PLIST ${out}/Info.plist)
endfunction()

# dexthil_add_xcode_dext(NAME
#                        PROJECT <Foo.xcodeproj>
#                        TARGET <target>
#                        [CONFIGURATION <Release>]
#                        [WARNINGS_AS_ERRORS] [NO_LINT])
#
# A dext from its Xcode project, unchanged: `dexthil xcode-target` reads the target's .iig, C++
# and C sources, Info.plist, entitlements, HEADER_SEARCH_PATHS, GCC_PREPROCESSOR_DEFINITIONS
# and build settings from project.pbxproj and its .xcconfig files (docs/xcode.md), and
# dexthil_add_dext builds them, with the folders of the target's files on the include path as
# Xcode's header map has them; the bundle's Info.plist gets the target's build settings
# expanded, as Xcode's does. The project is read when CMake configures, so this needs a built
# dexthil (find_package(dexthil) from a dext project); editing the project reconfigures.
function(dexthil_add_xcode_dext name)
  cmake_parse_arguments(X "NO_LINT;WARNINGS_AS_ERRORS" "PROJECT;TARGET;CONFIGURATION" "" ${ARGN})
  if(NOT X_PROJECT OR NOT X_TARGET)
    message(FATAL_ERROR "dexthil_add_xcode_dext(${name}): PROJECT and TARGET are required")
  endif()
  if(NOT X_CONFIGURATION)
    set(X_CONFIGURATION Release)
  endif()
  if(NOT EXISTS "${DEXTHIL_CLI}")
    message(FATAL_ERROR "dexthil_add_xcode_dext(${name}): reading an Xcode project needs a built dexthil "
                        "(find_package(dexthil) with dexthil_DIR set to a dexthil build); DEXTHIL_CLI is \"${DEXTHIL_CLI}\"")
  endif()
  get_filename_component(project ${X_PROJECT} ABSOLUTE)
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${name}.dext-xcode/xcode-target.cmake)
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/${name}.dext-xcode)
  execute_process(COMMAND ${DEXTHIL_CLI} xcode-target --configuration ${X_CONFIGURATION} --cmake ${script}
                          ${project} ${X_TARGET}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "dexthil_add_xcode_dext(${name}): ${err}")
  endif()
  include(${script})
  # The project and the files it draws settings from: a change reconfigures.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${project}/project.pbxproj ${DEXTHIL_XCODE_XCCONFIGS})
  set(options)
  if(X_NO_LINT)
    list(APPEND options NO_LINT)
  endif()
  if(X_WARNINGS_AS_ERRORS)
    list(APPEND options WARNINGS_AS_ERRORS)
  endif()
  # Xcode's header map finds a project's headers by name from anywhere: the folders of the
  # target's files stand in for it, after the project's own search paths.
  set(include_dirs ${DEXTHIL_XCODE_INCLUDE_DIRS})
  foreach(file ${DEXTHIL_XCODE_IIG} ${DEXTHIL_XCODE_SOURCES} ${DEXTHIL_XCODE_C_SOURCES} ${DEXTHIL_XCODE_HEADERS})
    get_filename_component(dir ${file} DIRECTORY)
    list(APPEND include_dirs ${dir})
  endforeach()
  list(REMOVE_DUPLICATES include_dirs)
  # A ';' inside a definition or a setting would split it on its way through the argument lists
  # below; $<SEMICOLON> carries it to the compile and expand-plist command lines intact.
  set(definitions)
  foreach(def IN LISTS DEXTHIL_XCODE_DEFINITIONS)
    string(REPLACE ";" "$<SEMICOLON>" def "${def}")
    list(APPEND definitions "${def}")
  endforeach()
  set(settings)
  foreach(setting IN LISTS DEXTHIL_XCODE_BUILD_SETTINGS)
    string(REPLACE ";" "$<SEMICOLON>" setting "${setting}")
    list(APPEND settings "${setting}")
  endforeach()
  set(entitlements)
  if(DEXTHIL_XCODE_ENTITLEMENTS)
    set(entitlements ENTITLEMENTS ${DEXTHIL_XCODE_ENTITLEMENTS})
  endif()
  dexthil_add_dext(${name}
    IIG ${DEXTHIL_XCODE_IIG}
    # The project says which files are C++ and which C, whatever their extensions.
    CXX_SOURCES ${DEXTHIL_XCODE_SOURCES}
    SOURCES ${DEXTHIL_XCODE_C_SOURCES}
    PLIST ${DEXTHIL_XCODE_PLIST}
    ${entitlements}
    DEFINITIONS ${definitions}
    INCLUDE_DIRS ${include_dirs}
    BUILD_SETTINGS ${settings}
    ${options})
endfunction()
