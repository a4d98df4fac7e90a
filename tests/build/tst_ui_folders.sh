#!/usr/bin/env bash
# The folders of ui/ keep their roles (docs/architecture.md, "The studio window"): a panel's
# folder includes no other panel's, common/ and plots/ include no panel and nothing of the
# shell, a panel takes only Panel.h from the shell, and only the panels' registry
# (StudioPanels.cpp) and the start-up (Studio.cpp) know the panel classes. ui/common/ and
# core/common/ share the include prefix "common/", so no file name may be in both.
# Usage: tst_ui_folders.sh SOURCE_DIR
set -uo pipefail

# Prints one line per broken rule in the tree at $1 (its ui/ and core/common/).
violations() {
  local ui="$1/ui" panel shared header
  for panel in $(cd "$ui/panels" && ls -d */ | tr -d /); do
    grep -rn '#include "panels/' "$ui/panels/$panel" | grep -v "\"panels/$panel/" \
      | sed "s|^|panels/$panel reaches into another panel: |"
    grep -rn '#include "shell/' "$ui/panels/$panel" | grep -v '"shell/Panel.h"' \
      | sed "s|^|panels/$panel takes more than Panel.h from the shell: |"
  done
  for shared in common plots; do
    grep -rn '#include "\(panels\|shell\)/' "$ui/$shared" \
      | sed "s|^|$shared/ depends on a panel or the shell: |"
  done
  grep -rn '#include "panels/' "$ui/shell" | grep -v '/shell/\(StudioPanels\|Studio\)\.cpp:' \
    | sed "s|^|only StudioPanels.cpp and Studio.cpp know the panels: |"
  for header in "$ui"/common/*; do
    [ -e "$1/core/common/$(basename "$header")" ] \
      && echo "\"common/$(basename "$header")\" names a file of ui/common and of core/common"
  done
  return 0
}

# The check can fail: a tree with a cross-panel include and a shared name is caught.
probe=$(mktemp -d)
mkdir -p "$probe/ui/panels/a" "$probe/ui/panels/b" "$probe/ui/common" "$probe/ui/plots" \
         "$probe/ui/shell" "$probe/core/common"
echo '#include "panels/b/B.h"' > "$probe/ui/panels/a/A.cpp"
touch "$probe/ui/common/Error.h" "$probe/core/common/Error.h"
caught=$(violations "$probe" | wc -l)
rm -rf "$probe"
if [ "$caught" -ne 2 ]; then
  echo "FAIL: the probe tree has 2 violations, the check saw $caught"
  exit 1
fi

found=$(violations "$1")
if [ -n "$found" ]; then
  echo "FAIL:"
  echo "$found"
  exit 1
fi
echo "PASS: ui/ folders keep their roles"
