#!/usr/bin/env bash
# The deimos-vs-etcd table on a many-core machine, from the .bigbox/ that
# ../shared/tools/bigbox/pack.sh writes. Differs from .bigbox/run.sh in what it reports: CPU and
# memory are summed over each member's whole process tree (a deimos member with client workers is
# several processes; the primary and its workers are shown apart), PSS beside RSS, and deimos runs
# in each listed mode in one go.
# Usage: bash scripts/bigbox-table.sh SECONDS SYSTEM...   SYSTEM: etcd | deimos:N (N client workers)
#        DEIMOS_BIN runs another build (default: the packed one), e.g. packages/server/bin/deimos.js.
#        LOADS picks the loads (default "w1 w64 w256 lin ser"; wN = writes at N clients).
#        PROFILE=1 adds a --cpu-prof run of deimos:$PROFILE_WORKERS (default 3) summarised per process
#        (PROFILE_LOADS: its loads, default LOADS).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd); B=$ROOT/.bigbox
DUR=${1:-8}; shift || true
SYSTEMS=${*:-etcd deimos:3 deimos:0}
OUTD=${OUT:-${TMPDIR:-/tmp}/bigbox-out}; mkdir -p "$OUTD"
W=${TMPDIR:-/tmp}/bigbox-table; mkdir -p $W/bin
if [ ! -x $W/bin/node ]; then
  xz -dc $B/node.xz >$W/bin/node; xz -dc $B/etcd.xz >$W/bin/etcd; chmod +x $W/bin/node $W/bin/etcd
  cp $B/wrk $B/lib*.so* $W/bin/; (cd $W && tar xJf $B/deimos.tar.xz)
fi
export PATH=$W/bin:$PATH LD_LIBRARY_PATH=$W/bin
HZ=$(getconf CLK_TCK); NCPU=$(nproc)
get() { node $B/hc.cjs GET "$1" ""; }
put() { node $B/hc.cjs PUT "$1" "$2" >/dev/null; }
log() { echo "$*" | tee -a $OUTD/table.txt; }
log "cpus $NCPU; node $(node --version); $(etcd --version | head -1); $(uname -r)"
cores() { if [ "$NCPU" -ge 16 ]; then echo "$((4*($1-1)))-$((4*($1-1)+3))"; else echo "0-$((NCPU-1))"; fi; }
WRKC=$([ "$NCPU" -ge 16 ] && echo 12-15 || echo 0-$((NCPU-1)))
PIDS=()
tree() { local c; echo $1; for c in $(cat /proc/$1/task/*/children 2>/dev/null); do tree $c; done; }
ticks() { awk '{print $14+$15}' /proc/$1/stat 2>/dev/null || echo 0; }
# CPU ticks of a process's main thread alone (for deimos: the consensus thread)
mticks() { awk '{print $14+$15}' /proc/$1/task/$1/stat 2>/dev/null || echo 0; }
# The leader's WAL fsyncs so far (etcd and deimos both export a fsync-duration histogram)
fsyncs() { get "$LEADER/metrics" | awk '/^(etcd_disk|deimos)_wal_fsync_duration_seconds_count/ {print $2; exit}'; }
# "primary workers" CPU ticks of member i's process tree
mcpu() { local p=${PIDS[$1]} w=0 c; for c in $(tree $p | tail -n +2); do w=$((w + $(ticks $c))); done; echo "$(ticks $p) $w"; }
mem() { # RSS and PSS in MiB summed over a member's process tree
  local r=0 s=0 c
  for c in $(tree ${PIDS[$1]}); do
    r=$((r + $(awk '/^VmRSS/{print $2}' /proc/$c/status))); s=$((s + $(awk '/^Pss:/{print $2}' /proc/$c/smaps_rollup)))
  done
  echo "rss $((r/1024)) pss $((s/1024))"
}
start3() { # impl workers dir [extra node flags]
  local impl=$1 n=$2 d=$3 i C; rm -rf $d; mkdir -p $d; PIDS=()
  C="m1=http://127.0.0.1:26301,m2=http://127.0.0.1:26302,m3=http://127.0.0.1:26303"
  for i in 1 2 3; do
    if [ $impl = etcd ]; then
      taskset -c $(cores $i) etcd --name m$i --data-dir $d/m$i --listen-client-urls http://127.0.0.1:2620$i \
        --advertise-client-urls http://127.0.0.1:2620$i --listen-peer-urls http://127.0.0.1:2630$i \
        --initial-advertise-peer-urls http://127.0.0.1:2630$i --initial-cluster $C --enable-v2=true \
        --log-level error >$d/m$i.log 2>&1 &
    else
      DEIMOS_CLIENT_WORKERS=$n taskset -c $(cores $i) node ${NODEFLAGS:-} ${DEIMOS_BIN:-$W/deimos/packages/server/bin/deimos.js} \
        --name m$i --data-dir $d/m$i \
        --listen-client-urls http://127.0.0.1:2620$i --advertise-client-urls http://127.0.0.1:2620$i \
        --listen-peer-urls http://127.0.0.1:2630$i --advertise-peer-urls http://127.0.0.1:2630$i \
        --bootstrap-config $C >$d/m$i.log 2>&1 &
    fi
    PIDS+=($!)
  done
  for t in $(seq 150); do node $B/hc.cjs PUT http://127.0.0.1:26201/v2/keys/_ready value=1 >$d/ready.txt 2>&1 && break; sleep 0.2; done
  # The leader's client URLs appear once it published them (a member may serve before the leader did).
  for t in $(seq 50); do
    LEADER=$(get http://127.0.0.1:26201/v2/members/leader | sed -nE 's/.*"clientURLs":\["([^"]+)".*/\1/p')
    [ -n "$LEADER" ] && break; sleep 0.2
  done
  [ -n "$LEADER" ] || { log "$impl: no leader (logs: $OUTD/noleader-m*.txt)"; for i in 1 2 3; do cp $d/m$i.log $OUTD/noleader-m$i.txt; done; cp $d/ready.txt $OUTD/noleader-put.txt; }
  LI=$(( ${LEADER: -1} - 1 ))
  sleep 1 # workers report up
}
stop3() { kill ${PIDS[@]} 2>/dev/null; for t in $(seq 50); do kill -0 ${PIDS[@]} 2>/dev/null || break; sleep 0.2; done; kill -9 ${PIDS[@]} 2>/dev/null; PIDS=(); }
load() { # name conns url [script]
  local name=$1 c=$2 url=$3 s=${4:-} t out i a b per="" rps p99
  t=$([ $c -lt 4 ] && echo $c || echo 4)
  for i in 0 1 2; do a[$i]="$(mcpu $i)"; done
  local m0=$(mticks ${PIDS[$LI]}) f0=$(fsyncs) fm0=() fm=""
  for i in 0 1 2; do fm0[$i]=$(mticks ${PIDS[$i]}); done
  if [ -n "$s" ]; then out=$(KEYS=/v2/keys taskset -c $WRKC wrk -t$t -c$c -d${DUR}s --latency -s $s "$url")
  else out=$(taskset -c $WRKC wrk -t$t -c$c -d${DUR}s --latency "$url"); fi
  for i in 0 1 2; do
    b=($(mcpu $i)); local x=(${a[$i]})
    per="$per m$((i+1)) $(( (b[0]-x[0]) * 100 / (DUR*HZ) ))+$(( (b[1]-x[1]) * 100 / (DUR*HZ) ))%"
  done
  local m1=$(mticks ${PIDS[$LI]}) f1=$(fsyncs)
  local fm1=(); for i in 0 1 2; do fm1[$i]=$(mticks ${PIDS[$i]}); done
  rps=$(echo "$out" | sed -nE 's/^Requests\/sec: *([0-9.]+).*/\1/p'); p99=$(echo "$out" | sed -nE 's/^ +99% +([0-9.]+[a-z]+).*/\1/p')
  for i in 0 1 2; do [ $i = $LI ] || fm="$fm $(awk -v t=$(( fm1[$i] - fm0[$i] )) -v hz=$HZ -v r=${rps:-0} -v d=$DUR 'BEGIN { printf "%.0f", (r > 0 ? t / hz * 1e6 / (r * d) : 0) }')"; done
  # The leader's main thread: its share of a core, and its CPU microseconds per request.
  local main="main $(( (m1-m0) * 100 / (DUR*HZ) ))% $(awk -v t=$((m1-m0)) -v hz=$HZ -v r=${rps:-0} -v d=$DUR 'BEGIN { printf "%.0f", (r > 0 ? t / hz * 1e6 / (r * d) : 0) }')us/req"
  # Group commit: requests per WAL fsync at the leader (reads: the fsyncs of the writes they cause, if any).
  fm=${fm# }; main="$main followers' main ${fm// /,}us/req"
  main="$main $(awk -v f=$(( ${f1:-0} - ${f0:-0} )) -v r=${rps:-0} -v d=$DUR 'BEGIN { printf "%.1f", (f > 0 ? r * d / f : 0) }')req/fsync"
  local errs=$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')
  log "$(printf '%-9s %-7s c%-4s %10s req/s p99 %-9s cpu(primary+workers)%s leader m%s %s %s' "$IMPL" "$name" "$c" "$rps" "$p99" "$per" "$((LI+1))" "$main" "$errs")"
}
suite() { # impl workers
  local impl=$1 n=$2 lin ser; IMPL=$impl$([ $impl = deimos ] && echo ":$n")
  start3 $impl $n ${TMPDIR:-/tmp}/bigbox-table-data
  if [ $impl = etcd ]; then lin="?quorum=true"; ser=""; else lin=""; ser="?serializable=true"; fi
  for l in ${LOADS:-w1 w64 w256 lin ser}; do
    case $l in
      w*) load write ${l#w} $LEADER $B/put.lua ;;
      lin) put "$LEADER/v2/keys/bench/r" value=hello; load linread 256 "$LEADER/v2/keys/bench/r$lin" ;;
      ser) put "$LEADER/v2/keys/bench/r" value=hello; load serread 256 "$LEADER/v2/keys/bench/r$ser" ;;
    esac
  done
  log "$IMPL memory after the run: m1 $(mem 0); m2 $(mem 1); m3 $(mem 2)"
  [ -n "${NODEFLAGS:-}" ] && log "leader m$((LI+1)) processes (primary first): $(tree ${PIDS[$LI]} | tr '\n' ' ')"
  stop3
  for i in 1 2 3; do tail -n 20 ${TMPDIR:-/tmp}/bigbox-table-data/m$i.log >$OUTD/log-${IMPL/:/-}-m$i.txt; done
  rm -rf ${TMPDIR:-/tmp}/bigbox-table-data
}
for s in $SYSTEMS; do suite ${s%%:*} $([ "${s#*:}" = "$s" ] && echo 0 || echo ${s#*:}); done
if [ -n "${PROFILE:-}" ]; then
  P=$W/prof; rm -rf $P; mkdir -p $P
  LOADS=${PROFILE_LOADS:-${LOADS:-}} NODEFLAGS="--cpu-prof --cpu-prof-dir=$P" suite deimos ${PROFILE_WORKERS:-3}
  sleep 2
  for f in $P/*.cpuprofile; do INCLUSIVE=1 node $ROOT/scripts/cpuprofile-top.mjs "$f" 40 >>$OUTD/profiles.txt; done
  log "profiles: $(ls $P | wc -l) (leader m$((LI+1)))"
fi
