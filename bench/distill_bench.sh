#!/usr/bin/env bash
# Knowledge distillation of the `cnn` on Fashion-MNIST through the CLI, against the same student
# trained alone for the same epochs:
#   bench/distill_bench.sh [--build build] [--workspace DIR] [--threads 2]
#       [--teacher-epochs 4] [--teacher-schedule cosine] [--epochs 5]
#       [--student bench/student-small-cnn.json] [--settings "0.9:4 0.7:4"] [--seeds "0 1 2"]
#       [--teacher NAME:V] [--flags "--schedule cosine --augment hflip"]
# 1. trains the teacher: `train --arch cnn --epochs TEACHER_EPOCHS --schedule TEACHER_SCHEDULE
#    --seed 0` (otherwise studio defaults: Adam, lr 1e-3, batch 128; 54k train / 6k validation /
#    10k test); or, with --teacher, a version already in WORKSPACE (e.g. the best trial of
#    bench/cnn_search_bench.sh run in the same workspace, trained on the same seed-0 split;
#    the runs' logs are reused as below, so give another teacher a fresh workspace or logs/);
# 2. at the first seed, distils the student once per ALPHA:T setting and keeps the setting with
#    the best final validation accuracy (the test split chooses nothing);
# 3. at every seed, distils with the kept setting and trains the student alone for the same
#    epochs (Adam, lr 1e-3, batch 128, constant lr in both): at seed 0 `train --arch STUDENT
#    --seed 0`, which shares the teacher's split; at another seed S the same distill run at
#    --alpha 0 --seed S, which is plain cross-entropy through the same loop from the same
#    initial weights in the same batch order on the teacher's split (`train --seed S` would
#    also split the data differently). tst_compress distillAtAlphaZeroIsTheStudentTrainedAlone
#    checks that the two ways give the same model.
# --flags: more flags for every student run, distilled or alone (train and distill share the
# names: --schedule, --optimizer, --weight-decay, --augment, ...).
# Every run's JSON lines are kept in WORKSPACE/logs/NAME.jsonl; a run whose log ends in a
# finished version is not run again, so an interrupted bench resumes and a second call only
# prints the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$here/build"
workspace=""
threads=2
teacher_epochs=4
teacher_schedule=cosine
epochs=5
student="$here/bench/student-small-cnn.json"
settings="0.9:4 0.7:4"
seeds="0 1 2"
given_teacher=""
flags=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --workspace) workspace="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --teacher-epochs) teacher_epochs="$2"; shift 2 ;;
    --teacher-schedule) teacher_schedule="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --student) student="$2"; shift 2 ;;
    --settings) settings="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --teacher) given_teacher="$2"; shift 2 ;;
    --flags) flags="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$workspace" ] || workspace="$(mktemp -d /tmp/distill-bench-XXXXXX)"
cli="$build/bin/modelstudio-cli"
logs="$workspace/logs"
mkdir -p "$logs"
echo "workspace: $workspace" >&2

# One summary line of a run's JSON lines: version, final val_acc, test_acc, parameters.
summary() {
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
version = val = test = params = None
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    o = json.loads(line)
    if o.get("event") == "epoch" and "val_acc" in o:
        val = o["val_acc"]
    if o.get("event") == "start" and "params" in o:
        params = o["params"]
    if "version" in o and o.get("status", "finished") == "finished":
        version = o["version"]
        m = o.get("metrics") or o.get("final") or {}
        test = m.get("test_acc", test)
        params = m.get("parameters", params)
print(version or "-", "-" if val is None else "%.4f" % val,
      "-" if test is None else "%.4f" % test, params or "-")
PY
}

# run NAME ARGS...: runs the CLI once, unless NAME's log already holds a finished version.
run() {
  local name="$1"; shift
  local log="$logs/$name.jsonl"
  if [ -f "$log" ] && [ "$(summary "$log" | cut -d' ' -f1)" != "-" ]; then
    return
  fi
  echo "running $name: modelstudio-cli $*" >&2
  "$cli" "$@" --workspace "$workspace" --threads "$threads" --json > "$log.part"
  mv "$log.part" "$log"
}

if [ -n "$given_teacher" ]; then
  # The given version's final metrics, in the shape summary() reads.
  "$cli" show "$given_teacher" --workspace "$workspace" --json | /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
m = dict(v.get("metrics", {}))
m.setdefault("parameters", v.get("parameter_count"))
print(json.dumps({"event": "finished", "version": sys.argv[1], "metrics": m}))
' "$given_teacher" > "$logs/teacher.jsonl"
else
  run teacher train --arch cnn --epochs "$teacher_epochs" --schedule "$teacher_schedule" \
    --seed 0 --name cnn-teacher
fi
teacher=$(summary "$logs/teacher.jsonl" | cut -d' ' -f1)

distill() {   # distill NAME ALPHA T SEED
  run "$1" compress "$teacher" --method distill --student-arch "$student" --epochs "$epochs" \
    --alpha "$2" --temperature "$3" --seed "$4" --name "$1" $flags
}

first_seed=${seeds%% *}
best=""; best_val=-1
for s in $settings; do
  a=${s%%:*}; t=${s##*:}
  distill "kd-a$a-T$t-s$first_seed" "$a" "$t" "$first_seed"
  val=$(summary "$logs/kd-a$a-T$t-s$first_seed.jsonl" | cut -d' ' -f2)
  if /usr/bin/python3 -c "import sys; sys.exit(0 if float('$val') > float('$best_val') else 1)"; then
    best="$s"; best_val="$val"
  fi
done
echo "kept alpha:T $best (best validation accuracy at seed $first_seed)" >&2
alone() {   # the student alone at seed $1: the name of its log
  if [ "$1" = 0 ]; then echo train-alone-s0; else echo "alone-s$1"; fi
}
for seed in $seeds; do
  distill "kd-a${best%%:*}-T${best##*:}-s$seed" "${best%%:*}" "${best##*:}" "$seed"
  if [ "$seed" = 0 ]; then
    run train-alone-s0 train --arch "$student" --epochs "$epochs" --seed 0 --name student-alone \
      $flags
  else
    distill "alone-s$seed" 0 1 "$seed"
  fi
done

teacher_test=$(summary "$logs/teacher.jsonl" | cut -d' ' -f3)
teacher_params=$(summary "$logs/teacher.jsonl" | cut -d' ' -f4)
printf '%-22s %-18s %8s %7s %8s %8s %9s\n' run version params share val_acc test_acc vs_teacher
for f in teacher $(for s in $settings; do echo "kd-a${s%%:*}-T${s##*:}-s$first_seed"; done) \
         $(for seed in $seeds; do echo "kd-a${best%%:*}-T${best##*:}-s$seed $(alone "$seed")"; done)
do
  read -r version val test params < <(summary "$logs/$f.jsonl")
  /usr/bin/python3 -c "
p, tp, t, tt = $params, $teacher_params, float('$test'), float('$teacher_test')
print('%-22s %-18s %8d %6.1f%% %8s %8.4f %+8.2f' % ('$f', '$version', p, 100.0 * p / tp, '$val', t, 100 * (t - tt)))"
done | awk '!seen[$1]++'

# Per seed, the target: within 1.5 points of the teacher and better than the student alone.
for seed in $seeds; do
  kd=$(summary "$logs/kd-a${best%%:*}-T${best##*:}-s$seed.jsonl" | cut -d' ' -f3)
  solo=$(summary "$logs/$(alone "$seed").jsonl" | cut -d' ' -f3)
  /usr/bin/python3 -c "
kd, solo, tt = float('$kd'), float('$solo'), float('$teacher_test')
gap, gain = 100 * (tt - kd), 100 * (kd - solo)
print('seed %s: distilled %.4f, alone %.4f (%+.2f pt), %.2f pt under the teacher: %s' % (
    '$seed', kd, solo, gain, gap, 'met' if gap <= 1.5 and gain > 0 else 'not met'))"
done
