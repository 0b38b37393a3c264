# dexthil-iig on a malformed .iig: exit status 2, "FILE:LINE:COL: error: ..." on stderr, no output.
execute_process(
  COMMAND ${IIG} fixtures/iig/invalid/data-member.iig --header /tmp/dexthil-iig-bad.h --impl /tmp/dexthil-iig-bad.iig.cpp
  RESULT_VARIABLE status ERROR_VARIABLE err)
file(STRINGS fixtures/iig/invalid/data-member.iig first LIMIT_COUNT 1)
string(REPLACE "// expect-error: " "" expected "${first}")
if(NOT status EQUAL 2)
  message(FATAL_ERROR "exit status ${status}, expected 2")
endif()
if(NOT err STREQUAL "fixtures/iig/invalid/data-member.iig:${expected}\n")
  message(FATAL_ERROR "stderr was: ${err}\nexpected: fixtures/iig/invalid/data-member.iig:${expected}")
endif()
if(EXISTS /tmp/dexthil-iig-bad.h OR EXISTS /tmp/dexthil-iig-bad.iig.cpp)
  message(FATAL_ERROR "output written for bad input")
endif()
