# Small wrappers that own output folders, warnings and the allowed arrows between targets
# (the habit of Qt Creator's add_qtc_library / add_qtc_test).

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")
set(CMAKE_ARCHIVE_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")

function(ms_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  # Not QT_NO_FOREACH here: qcustomplot.h uses foreach; core and the CLI add it themselves.
  target_compile_definitions(${target} PRIVATE QT_NO_CONTEXTLESS_CONNECT)
endfunction()

# ms_add_test(NAME SOURCES... LIBS ... [LABELS ...])
# One Qt Test executable per unit, run by CTest on the offscreen platform with an isolated
# home so no test touches the user's real workspace.
function(ms_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Qt6::Test ${ARG_LIBS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  ms_set_warnings(${name})
  target_compile_definitions(${name} PRIVATE
    MS_TEST_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
    MS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${ARG_TIMEOUT}
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;MODELSTUDIO_WORKSPACE=;QT_LOGGING_RULES=qt.qpa.*=false")
endfunction()

# Plugins live in lib/modelstudio/plugins relative to the prefix, and the build tree mirrors it
# (bin/ beside lib/modelstudio/plugins), so PluginManager finds them from the executable's
# folder in both without a path compiled in.
set(MS_PLUGIN_SUBDIR "lib/modelstudio/plugins")

# ms_add_plugin(NAME SOURCES... [LIBS ...] [OUTPUT_DIR dir] [NO_INSTALL])
# A Qt plugin (MODULE library) against ModelStudio::Core. OUTPUT_DIR and NO_INSTALL are for
# test plugins that must not land on the default search path.
function(ms_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ModelStudio::Core ${ARG_LIBS})
  target_compile_definitions(${name} PRIVATE QT_NO_KEYWORDS QT_NO_FOREACH)
  ms_set_warnings(${name})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR "${CMAKE_BINARY_DIR}/${MS_PLUGIN_SUBDIR}")
  endif()
  # No "lib" prefix: the file is named as the plugin, and nothing links against it.
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIR}"
    # Installed next to the core's lib/ folder (the core is normally already loaded by the
    # executable, which satisfies the dependency by its soname anyway).
    INSTALL_RPATH "$ORIGIN/../..")
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION "${MS_PLUGIN_SUBDIR}" COMPONENT Plugins)
  endif()
endfunction()
