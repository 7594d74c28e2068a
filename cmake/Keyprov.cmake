# Keyprov.cmake: render the FreeRTOS credential headers with `keyprov render` as part of
# the build.
#
#   execute_process(COMMAND npx keyprov cmake-module-path OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE)
#   list(APPEND CMAKE_MODULE_PATH "${_dir}")
#   include(Keyprov)
#   keyprov_credentials(TARGET aws_demos [BOARD lab-1] [CONFIG keyprov.config.yaml] [OUT_DIR dir]
#                       [RENDER_ARGS --ca-certificate ca.pem])
#
# A custom command that renders the two headers (OUTPUT: a stamp; BYPRODUCTS: the headers)
# and whose DEPENDS are the files `keyprov render --print-inputs` names at configure time
# (config, certificate, CA, templates) plus those its depfile names at build time; OUT_DIR goes first on the target's include path, and the target depends on
# the headers, so they exist before anything compiles. keyprov rewrites a header only when
# its text changes, so only the objects that include a changed header recompile.
#
# KEYPROV_COMMAND (cache, a ;-list) says how to run keyprov; default `npx keyprov`.
include_guard(GLOBAL)
if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "Keyprov.cmake needs CMake 3.20 or newer (DEPFILE with Makefile generators); this is ${CMAKE_VERSION}")
endif()

set(KEYPROV_COMMAND "npx;keyprov" CACHE STRING "How to run keyprov, as a ;-list (e.g. node;/path/to/keyprov/bin/keyprov.js)")

function(keyprov_credentials)
  cmake_parse_arguments(PARSE_ARGV 0 KP "" "TARGET;BOARD;CONFIG;OUT_DIR" "RENDER_ARGS")
  if(KP_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "keyprov_credentials: unknown arguments: ${KP_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT KP_TARGET)
    message(FATAL_ERROR "keyprov_credentials: TARGET is required, e.g. keyprov_credentials(TARGET aws_demos)")
  endif()
  if(NOT TARGET "${KP_TARGET}")
    message(FATAL_ERROR "keyprov_credentials: no target named ${KP_TARGET} (call it after add_executable)")
  endif()

  set(_args)
  if(KP_CONFIG)
    get_filename_component(_config "${KP_CONFIG}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND _args --config "${_config}")
  endif()
  set(_name "${KP_TARGET}")
  if(KP_BOARD)
    list(APPEND _args --board "${KP_BOARD}")
    set(_name "${KP_TARGET}-${KP_BOARD}")
  endif()
  if(NOT KP_OUT_DIR)
    set(KP_OUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/keyprov/${_name}")
  endif()
  get_filename_component(_out "${KP_OUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  list(APPEND _args --out-dir "${_out}" ${KP_RENDER_ARGS})

  # Which files the headers are made from. Reads no PEM: works before the certificate exists.
  execute_process(
    COMMAND ${KEYPROV_COMMAND} render ${_args} --print-inputs --json
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    OUTPUT_VARIABLE _plan ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    string(STRIP "${_err}" _err)
    message(FATAL_ERROR "keyprov_credentials(${KP_TARGET}): `${KEYPROV_COMMAND} render --print-inputs` failed:\n${_err}\n(set KEYPROV_COMMAND if keyprov is not run with npx)")
  endif()
  set(_inputs)
  string(JSON _n LENGTH "${_plan}" inputs)
  if(_n GREATER 0)
    math(EXPR _last "${_n} - 1")
    foreach(_i RANGE ${_last})
      string(JSON _f GET "${_plan}" inputs ${_i})
      # A missing file (the certificate before `keyprov issue`) cannot be a DEPENDS (make:
      # "No rule to make target"); the render fails with keyprov's own message until it
      # exists, and the depfile names it from then on.
      if(EXISTS "${_f}")
        list(APPEND _inputs "${_f}")
      endif()
    endforeach()
  endif()
  set(_headers)
  string(JSON _n LENGTH "${_plan}" outputs)
  math(EXPR _last "${_n} - 1")
  foreach(_i RANGE ${_last})
    string(JSON _f GET "${_plan}" outputs ${_i})
    list(APPEND _headers "${_f}")
  endforeach()
  # The config decides the list itself (templates, JITR): configure again when it changes.
  string(JSON _config ERROR_VARIABLE _noconfig GET "${_plan}" config)
  if(NOT _noconfig AND _config)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_config}")
  endif()

  # The stamp is touched on every run; the headers only when their text changes. Without
  # it a header that did not change would stay older than the inputs and the render would
  # run again on every build.
  # The depfile (written by the render) names every input, including those that did not
  # exist at configure time; DEPENDS has the ones that did.
  set(_stamp "${_out}/keyprov.stamp")
  set(_depfile "${_out}/keyprov-stamp.d")
  # CMP0116 NEW: Ninja gets the depfile's absolute paths mapped to its own; set for this
  # command only (a function's policy changes would otherwise reach the caller).
  cmake_policy(PUSH)
  if(POLICY CMP0116)
    cmake_policy(SET CMP0116 NEW)
  endif()
  add_custom_command(
    OUTPUT "${_stamp}"
    BYPRODUCTS ${_headers}
    COMMAND ${KEYPROV_COMMAND} render --quiet ${_args} --depfile "${_depfile}" --depfile-target "${_stamp}"
    COMMAND ${CMAKE_COMMAND} -E touch "${_stamp}"
    DEPENDS ${_inputs}
    DEPFILE "${_depfile}"
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    COMMENT "keyprov: rendering credential headers into ${_out}"
    VERBATIM)
  cmake_policy(POP)
  add_custom_target(keyprov_credentials_${_name} DEPENDS "${_stamp}")
  add_dependencies(${KP_TARGET} keyprov_credentials_${_name})
  target_include_directories(${KP_TARGET} BEFORE PRIVATE "${_out}")
  set_property(TARGET ${KP_TARGET} APPEND PROPERTY KEYPROV_HEADERS ${_headers})
endfunction()
