# knobs_doc.cmake - writes or checks docs/knobs.md, the Markdown form of the
# knob and metric tables (`s3sim knobs --markdown`).
#   cmake -DS3SIM=<s3sim binary> -DDOC=<docs/knobs.md> -DMODE=write|check -P knobs_doc.cmake
# MODE=write is the `knobs-doc` build target; MODE=check is the ctest test
# `docs/knobs`, which fails when the committed page differs from the tables.
execute_process(COMMAND ${S3SIM} knobs --markdown OUTPUT_VARIABLE fresh RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "`s3sim knobs --markdown` failed (${rc})")
endif()
if(MODE STREQUAL "write")
  file(WRITE ${DOC} "${fresh}")
  return()
endif()
if(EXISTS ${DOC})
  file(READ ${DOC} committed)
else()
  set(committed "")
endif()
if(NOT committed STREQUAL fresh)
  message(FATAL_ERROR "docs/knobs.md is stale: the knob or metric table changed. Regenerate it "
                      "with\n    cmake --build build --target knobs-doc\n"
                      "(any build directory works) and commit docs/knobs.md.")
endif()
