#!/usr/bin/env bash
# Turn a flan-eval exit code into a verdict the nightly job can show: one line on the log and in the job
# summary, and this script's own exit status (0 only when the step succeeded). The codes are those of
# docs/protocol.md §5; a crash (3, a bug in flan-eval) must never read as a regression (1).
#
# Usage: flan-eval-exit.sh <command> <exit code>     e.g. flan-eval-exit.sh compare "$code"
set -u
command="$1"
code="$2"
status=1
case "$code" in
  0) message="flan-eval $command: ok"; status=0 ;;
  1)
    case "$command" in
      compare) message="flan-eval compare found a significant drop (a regression, exit 1); see the comparison above" ;;
      run) message="flan-eval run finished, but some examples failed (exit 1); their errors are in the predictions files" ;;
      *) message="flan-eval $command reported a failure (exit 1)" ;;
    esac
    ;;
  2) message="flan-eval $command could not run: a usage or input error (exit 2), e.g. no baseline yet; see its error line" ;;
  3) message="flan-eval $command CRASHED: an internal error (exit 3), a bug in flan-eval, not a regression; rerun it with --verbose for the stack trace" ;;
  130) message="flan-eval $command was interrupted (exit 130)" ;;
  *) message="flan-eval $command ended with unexpected exit code $code (killed, out of memory?)" ;;
esac
echo "$message"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then printf '\n**%s**\n' "$message" >> "$GITHUB_STEP_SUMMARY"; fi
exit "$status"
