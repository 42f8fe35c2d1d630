
# --- Appended by httptrace's build (src/main/completion/httptrace-extra.bash) to the script
# picocli generates: what its model cannot say. File names for -r, --ready-file, --tls-lib
# (String options there: '-' is stdin, a path may not exist yet), this host's interfaces for
# -i, user names for --user. Everything else is picocli's.
function _complete_httptrace() {
  local curr_word=${COMP_WORDS[COMP_CWORD]}
  local prev_word=${COMP_WORDS[COMP_CWORD-1]}
  case ${prev_word} in
    '-r'|'--read'|'--ready-file'|'--tls-lib')
      type compopt &>/dev/null && compopt -o filenames 2>/dev/null
      local IFS=$'\n'
      COMPREPLY=( $( compgen -f -- "${curr_word}" ) )
      return 0
      ;;
    '-i'|'--iface')
      local IFS=$'\n'
      COMPREPLY=( $( compgen -W "$(ls -1 /sys/class/net 2>/dev/null)" -- "${curr_word}" ) )
      return 0
      ;;
    '--user')
      local IFS=$'\n'
      COMPREPLY=( $( compgen -u -- "${curr_word}" ) )
      return 0
      ;;
  esac
  _picocli_httptrace; return $?;
}
