#!/usr/bin/env bash
# The library's floors, checked from its includes: a header may include
# headers of its own floor and of the floors it stands on, never one above,
# and the includes between headers form no cycle. Prints the floor graph.
# usage: check_floors.sh INCLUDE_DIR      (INCLUDE_DIR/shallow/<floor>/*.hpp)
set -euo pipefail
root=$1/shallow
fail() { echo "FAIL: $*" >&2; exit 1; }

# What each floor may include besides itself.
declare -A below=(
  [core]=""
  [kernels]="core"
  [nn]="core kernels"
  [optim]="core"
  [models]="core kernels nn"
  [data]="core"
  [train]="core kernels nn optim data"
  [onnx]="core kernels nn optim models data train"
)
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for dir in "$root"/*/; do
  floor=$(basename "$dir")
  [ -n "${below[$floor]+set}" ] || fail "include/shallow/$floor/ is no known floor"
  for header in "$dir"*.hpp; do
    name=$floor/$(basename "$header")
    # Within the library, headers include each other by relative path only.
    if grep -qE '^#include <shallow/' "$header" && [ "$floor" != onnx ]; then
      fail "$name includes <shallow/...>: use a relative path"
    fi
    while read -r target; do
      case $target in
        ../*/*) to=${target#../}; to_floor=${to%%/*} ;;
        *) to=$floor/$target; to_floor=$floor ;;
      esac
      [ -f "$root/$to" ] || fail "$name includes $target, which does not exist"
      if [ "$to_floor" != "$floor" ] && [[ " ${below[$floor]} " != *" $to_floor "* ]]; then
        fail "$name includes $to: $floor/ may include only ${below[$floor]:-nothing} besides itself"
      fi
      echo "$name $to" >>"$edges"
    done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$header")
  done
done
# tsort names any cycle among the headers.
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
  fail "include cycle: $(cat "$edges.err")"
fi
rm -f "$edges.err"
echo "floors (a floor includes only those after its arrow):"
for floor in core kernels nn optim models data train onnx; do echo "  $floor -> ${below[$floor]:-}"; done
echo "$(wc -l <"$edges") includes between $(find "$root" -mindepth 2 -name '*.hpp' | wc -l) headers, no cycle"
