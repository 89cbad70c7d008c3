# Fails when the sources, the documents or the program's --help texts cite something that is not there
# (docs/theory.md §7.28):
#   - a Markdown file (any name ending in .md, checked relative to the repository root; ./ and ../
#     relative to the citing file) or a file of the repository's own folders (core/..., flow/...,
#     tests/..., ending in a source extension) that does not exist, and any mention of the old THEORY
#     file, which the repository does not have;
#   - a section or item §N or §N.M that docs/theory.md does not define (every § in the tree refers to
#     docs/theory.md, whose headings "## §N ...", "### §N.M ..." and oracle items "- **§N.M** ..." define
#     the numbers);
#   - a citation of docs/theory.md by "section" instead of §;
# in every tracked file (git ls-files; without git, every file under SOURCE_DIR outside build/ and
# .git/) and in the output of `CLI --help` and `CLI <command> --help` for every command.
#
#   cmake -DSOURCE_DIR=<repository> [-DCLI=<gradflow binary>] -P check_citations.cmake
#   cmake -DSELF_TEST=ON -DWORK_DIR=<scratch directory> -P check_citations.cmake
#
# SELF_TEST checks the checker: it must accept a small clean tree and reject the same tree with bad
# citations planted in it, naming each.
cmake_minimum_required(VERSION 3.20)

set(commands flow descend certify probability sweep compare-inits)

if(SELF_TEST)
  if(NOT WORK_DIR)
    message(FATAL_ERROR "check_citations: SELF_TEST needs -DWORK_DIR=<scratch directory>")
  endif()
  set(tree "${WORK_DIR}/citations_self_test")
  file(REMOVE_RECURSE "${tree}")
  file(WRITE "${tree}/docs/theory.md" "# T\n\n## §1 One\n\n### §1.1 Sub\n\n## §2 Two\n\n- **§2.3** an item\n")
  file(WRITE "${tree}/README.md" "See docs/theory.md §1, docs/theory.md §1.1 and §2.3, and [x](docs/theory.md).\n")
  file(WRITE "${tree}/src/a.cpp" "// docs/theory.md §2; ../README.md; https://example.org/NOTES.md\n")
  execute_process(COMMAND "${CMAKE_COMMAND}" -DSOURCE_DIR=${tree} -P "${CMAKE_CURRENT_LIST_FILE}"
                  RESULT_VARIABLE clean_result OUTPUT_VARIABLE clean_out ERROR_VARIABLE clean_out)
  if(NOT clean_result EQUAL 0)
    message(FATAL_ERROR "check_citations self test: the clean tree was rejected:\n${clean_out}")
  endif()
  # A program whose --help texts cite what does not exist.
  if(UNIX)
    file(WRITE "${WORK_DIR}/citations_fake_cli" "#!/bin/sh\necho \"usage: see docs/gone.md and docs/theory.md §42\"\n")
    file(CHMOD "${WORK_DIR}/citations_fake_cli" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
    execute_process(COMMAND "${CMAKE_COMMAND}" -DSOURCE_DIR=${tree} -DCLI=${WORK_DIR}/citations_fake_cli
                            -P "${CMAKE_CURRENT_LIST_FILE}"
                    RESULT_VARIABLE help_result OUTPUT_VARIABLE help_out ERROR_VARIABLE help_out)
    if(help_result EQUAL 0)
      message(FATAL_ERROR "check_citations self test: bad citations in --help were accepted:\n${help_out}")
    endif()
    foreach(expected "gradflow --help:1: docs/gone.md" "gradflow compare-inits --help:1: §42")
      string(FIND "${help_out}" "${expected}" at)
      if(at EQUAL -1)
        message(FATAL_ERROR "check_citations self test: no report of '${expected}' in:\n${help_out}")
      endif()
    endforeach()
    file(REMOVE "${WORK_DIR}/citations_fake_cli")
  endif()
  string(CONCAT planted
         "// THEORY.md section 4\n"
         "// docs/missing.md\n"
         "// docs/theory.md §3 and §1.2\n"
         "// docs/theory.md section 2\n"
         "// flow/nowhere.hpp\n")
  file(WRITE "${tree}/src/b.cpp" "${planted}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -DSOURCE_DIR=${tree} -P "${CMAKE_CURRENT_LIST_FILE}"
                  RESULT_VARIABLE bad_result OUTPUT_VARIABLE bad_out ERROR_VARIABLE bad_out)
  if(bad_result EQUAL 0)
    message(FATAL_ERROR "check_citations self test: the planted bad citations were accepted:\n${bad_out}")
  endif()
  foreach(expected "src/b.cpp:1: THEORY" "src/b.cpp:2: docs/missing.md" "src/b.cpp:3: §3" "src/b.cpp:3: §1.2"
                   "src/b.cpp:4: docs/theory.md section" "src/b.cpp:5: flow/nowhere.hpp")
    string(FIND "${bad_out}" "${expected}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "check_citations self test: no report of '${expected}' in:\n${bad_out}")
    endif()
  endforeach()
  file(REMOVE_RECURSE "${tree}")
  message(STATUS "check_citations self test: the clean tree passes, every planted citation (in files and in "
                 "--help texts) is reported")
  return()
endif()

if(NOT SOURCE_DIR OR NOT IS_DIRECTORY "${SOURCE_DIR}")
  message(FATAL_ERROR "check_citations: -DSOURCE_DIR=<repository> is required")
endif()
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" REALPATH)
get_filename_component(self "${CMAKE_CURRENT_LIST_FILE}" REALPATH)

# The section and item numbers docs/theory.md defines.
set(theory "${SOURCE_DIR}/docs/theory.md")
set(defined "")
if(EXISTS "${theory}")
  file(READ "${theory}" text)
  string(REGEX MATCHALL "\n##+ §[0-9]+(\\.[0-9]+)*" headings "\n${text}")
  string(REGEX MATCHALL "\n[ ]*- \\*\\*§[0-9]+(\\.[0-9]+)*\\*\\*" items "\n${text}")
  foreach(label IN LISTS headings items)
    string(REGEX MATCH "§[0-9]+(\\.[0-9]+)*" label "${label}")
    list(APPEND defined "${label}")
  endforeach()
  list(LENGTH defined count)
  if(count EQUAL 0)
    message(FATAL_ERROR "check_citations: docs/theory.md defines no § numbers")
  endif()
  set(seen "")
  foreach(label IN LISTS defined)
    if(label IN_LIST seen)
      message(FATAL_ERROR "check_citations: docs/theory.md defines ${label} twice")
    endif()
    list(APPEND seen "${label}")
  endforeach()
endif()

set(problems "")

# The line of the first occurrence of needle in text, a file's text with one newline put in front.
function(line_of text needle out)
  string(FIND "${text}" "${needle}" at)
  if(at LESS 0)
    set(${out} "?" PARENT_SCOPE)
    return()
  endif()
  string(SUBSTRING "${text}" 0 ${at} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines n)
  set(${out} ${n} PARENT_SCOPE)
endfunction()

# Checks the text in the variable text_var, from the file or output named where (base_dir: the
# directory that ./ and ../ start from), and appends what is wrong to problems.
function(check_text where base_dir text_var)
  set(found "")
  set(text "\n${${text_var}}\n")
  # The old reference, which is not in the repository.
  if(text MATCHES "[^A-Za-z0-9_]THEORY[^A-Za-z0-9_]" AND NOT EXISTS "${SOURCE_DIR}/THEORY.md")
    line_of("${text}" "THEORY" line)
    list(APPEND found "${where}:${line}: THEORY (THEORY.md is not in the repository: cite docs/theory.md §N)")
  endif()
  # Markdown files: the maximal runs of path characters that end in .md (after any final dots).
  string(REGEX REPLACE "[^A-Za-z0-9_./\n-]" " " paths "${text}")
  string(REGEX MATCHALL "[A-Za-z0-9_./-]+" words "${paths}")
  foreach(word IN LISTS words)
    string(REGEX REPLACE "\\.+$" "" name "${word}")
    if(name MATCHES "^//")  # a URL's path
      continue()
    endif()
    # A Markdown file anywhere, or a file of one of the repository's own folders (a source path).
    if(NOT name MATCHES "[A-Za-z0-9_-]\\.md$" AND
       NOT name MATCHES "^(core|problems|theory|flow|discrete|experiments|apps|bench|tests|examples|scripts|cmake|data|python)/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\\.(hpp|cpp|inc|py|pyi|sh|cmake|toml|csv|svg|txt|json)$")
      continue()
    endif()
    if(name MATCHES "^\\.\\.?/")
      set(path "${base_dir}/${name}")
    else()
      set(path "${SOURCE_DIR}/${name}")
      # A page of the documentation site links its neighbours by their names (library.md, cli/index.md).
      if(NOT EXISTS "${path}" AND where MATCHES "^docs/" AND EXISTS "${base_dir}/${name}")
        set(path "${base_dir}/${name}")
      endif()
    endif()
    if(NOT EXISTS "${path}" OR IS_DIRECTORY "${path}")
      line_of("${paths}" "${name}" line)
      list(APPEND found "${where}:${line}: ${name} does not exist")
    endif()
  endforeach()
  # Section and item numbers of docs/theory.md.
  string(REGEX MATCHALL "§[0-9]+(\\.[0-9]+)*" hits "${text}")
  if(hits)
    list(REMOVE_DUPLICATES hits)
  endif()
  foreach(label IN LISTS hits)
    if(NOT label IN_LIST defined)
      # The line of the label itself, not of a longer label it starts (§1 in §1.2).
      string(REPLACE "." "\\." pattern "${label}")
      string(REGEX MATCH "${pattern}([^0-9.]|\\.[^0-9])" exact "${text}")
      line_of("${text}" "${exact}" line)
      list(APPEND found "${where}:${line}: ${label} is not a section or item of docs/theory.md")
    endif()
  endforeach()
  # One way of citing.
  string(REGEX MATCH "theory\\.md,? sections?[^A-Za-z]" hit "${text}")
  if(hit)
    line_of("${text}" "${hit}" line)
    list(APPEND found "${where}:${line}: docs/theory.md section ... (cite docs/theory.md §N)")
  endif()
  if(found)
    set(problems ${problems} ${found} PARENT_SCOPE)
  endif()
endfunction()

# The files: git's list when SOURCE_DIR is the top of a git worktree, else every file but build/ and .git/.
set(files "")
set(how "")
find_program(GIT_EXECUTABLE git)
if(GIT_EXECUTABLE)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --show-toplevel
                  RESULT_VARIABLE git_result OUTPUT_VARIABLE top OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(git_result EQUAL 0 AND top)
    get_filename_component(top "${top}" REALPATH)
  endif()
  if(git_result EQUAL 0 AND top STREQUAL SOURCE_DIR)
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" -c core.quotepath=off ls-files
                    RESULT_VARIABLE git_result OUTPUT_VARIABLE listing ERROR_QUIET)
    if(git_result EQUAL 0)
      string(REPLACE "\n" ";" files "${listing}")
      set(how "git ls-files")
    endif()
  endif()
endif()
if(NOT how)
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/*")
  list(FILTER files EXCLUDE REGEX "^(build/|\\.git/|\\.git$)")
  set(how "every file outside build/ and .git/")
endif()
list(FILTER files EXCLUDE REGEX "\\.(png|jpg|jpeg|gif|pdf|gz|zip|ico)$")

set(checked 0)
foreach(relative IN LISTS files)
  if(relative STREQUAL "")
    continue()
  endif()
  set(path "${SOURCE_DIR}/${relative}")
  if(NOT EXISTS "${path}" OR IS_DIRECTORY "${path}")
    continue()
  endif()
  get_filename_component(real "${path}" REALPATH)
  if(real STREQUAL self)  # this file names the patterns it looks for
    continue()
  endif()
  get_filename_component(dir "${path}" DIRECTORY)
  file(READ "${path}" content)
  check_text("${relative}" "${dir}" content)
  math(EXPR checked "${checked} + 1")
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "check_citations: found no files to check under ${SOURCE_DIR}")
endif()

# The --help texts.
set(helps 0)
if(CLI)
  execute_process(COMMAND "${CLI}" --help RESULT_VARIABLE result OUTPUT_VARIABLE main_help ERROR_VARIABLE main_help)
  if(NOT result EQUAL 0)
    list(APPEND problems "${CLI} --help exited with ${result}")
  endif()
  check_text("gradflow --help" "${SOURCE_DIR}" main_help)
  math(EXPR helps "${helps} + 1")
  # Every command the main help lists (its "Subcommands:" paragraph), besides the known ones.
  string(FIND "${main_help}" "Subcommands:" at)
  if(at GREATER -1)
    string(SUBSTRING "${main_help}" ${at} -1 listed)
    string(FIND "${listed}" "\n\n" end)
    if(end GREATER -1)
      string(SUBSTRING "${listed}" 0 ${end} listed)
    endif()
    string(REGEX MATCHALL "\n  [a-z][a-z-]*" listed "${listed}")
    foreach(name IN LISTS listed)
      string(STRIP "${name}" name)
      if(NOT name IN_LIST commands)
        list(APPEND commands "${name}")
      endif()
    endforeach()
  endif()
  foreach(command IN LISTS commands)
    execute_process(COMMAND "${CLI}" ${command} --help RESULT_VARIABLE result OUTPUT_VARIABLE help ERROR_VARIABLE help)
    if(NOT result EQUAL 0)
      list(APPEND problems "gradflow ${command} --help exited with ${result}")
    endif()
    check_text("gradflow ${command} --help" "${SOURCE_DIR}" help)
    math(EXPR helps "${helps} + 1")
  endforeach()
endif()

list(LENGTH problems count)
if(count GREATER 0)
  list(JOIN problems "\n  " report)
  message(FATAL_ERROR "check_citations: ${count} bad citation(s):\n  ${report}")
endif()
list(LENGTH defined sections)
message(STATUS "check_citations: ${checked} files (${how}) and ${helps} --help texts cite only files that exist "
               "and the ${sections} numbers docs/theory.md defines")
