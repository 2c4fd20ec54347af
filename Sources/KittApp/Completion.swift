import KittAgent

/// `kitt completion bash|zsh`: shell completion for the subcommands and their flags. The flag
/// lists come from the help texts, so a new flag completes without touching this file.
enum Completion {
    static let help = """
        Usage: kitt completion bash|zsh

        Print a completion script:   source <(kitt completion bash)   (bash, ~/.bashrc)
                                     source <(kitt completion zsh)    (zsh, ~/.zshrc)
        """

    static let subcommands = ["web", "agent", "import", "migrate", "backup", "restore", "openapi", "completion", "help"]

    /// Flags per subcommand.
    static var flags: [(String, [String])] {
        [
            ("web", Suggestion.flags(in: WebOptions.help) + ["--help"]),
            ("agent", Suggestion.flags(in: AgentConfiguration.help) + ["--help"]),
            ("import", ["--data-dir", "--db", "--database", "--help"]),
            ("migrate", MigrateArguments.flags),
            ("backup", ["--data-dir", "--db", "--help"]),
            ("restore", ["--data-dir", "--db", "--help"]),
            ("openapi", ["--markdown", "--help"]),
        ]
    }

    static let directoryFlags = ["--data-dir", "--model-dir", "--config-dir", "--results-dir", "--storage-dir"]
    static let fileFlags = ["--db", "--tls-cert", "--tls-key", "--tls-ca", "--config", "--ca", "--auth-token-file"]

    static func run(_ arguments: [String]) -> Int32 {
        switch arguments {
        case ["bash"]: print(bash(), terminator: "")
        case ["zsh"]: print(zsh(), terminator: "")
        case ["--help"], ["-h"]: print(help)
        default:
            printError("kitt completion: expected 'bash' or 'zsh' (see 'kitt completion --help')")
            return 2
        }
        return 0
    }

    static func bash() -> String {
        let cases = flags.map { "        \($0.0)) words=\"\($0.1.joined(separator: " "))\" ;;" }.joined(separator: "\n")
        return """
            # bash completion for kitt (kitt completion bash)
            _kitt() {
                local cur prev words
                cur="${COMP_WORDS[COMP_CWORD]}"
                prev="${COMP_WORDS[COMP_CWORD-1]}"
                if [ "$COMP_CWORD" -eq 1 ]; then
                    COMPREPLY=($(compgen -W "\(subcommands.joined(separator: " ")) --version --help" -- "$cur"))
                    return 0
                fi
                case "$prev" in
                    \(directoryFlags.joined(separator: "|"))) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
                    \(fileFlags.joined(separator: "|"))) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
                    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return 0 ;;
                esac
                case "${COMP_WORDS[1]}" in
            \(cases)
                    completion) words="bash zsh" ;;
                    *) words="" ;;
                esac
                if [[ "$cur" == -* || "${COMP_WORDS[1]}" == completion ]]; then
                    COMPREPLY=($(compgen -W "$words" -- "$cur"))
                else
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                return 0
            }
            complete -F _kitt kitt

            """
    }

    static func zsh() -> String {
        let cases = flags.map { "        \($0.0)) flags=(\($0.1.joined(separator: " "))) ;;" }.joined(separator: "\n")
        return """
            #compdef kitt
            # zsh completion for kitt (kitt completion zsh)
            _kitt() {
                local -a flags
                if (( CURRENT == 2 )); then
                    compadd -- \(subcommands.joined(separator: " ")) --version --help
                    return
                fi
                case "${words[CURRENT-1]}" in
                    \(directoryFlags.joined(separator: "|"))) _files -/; return ;;
                    \(fileFlags.joined(separator: "|"))) _files; return ;;
                    --log-format) compadd -- text json; return ;;
                esac
                case "${words[2]}" in
            \(cases)
                    completion) compadd -- bash zsh; return ;;
                    *) flags=() ;;
                esac
                if [[ "${words[CURRENT]}" == -* ]]; then
                    compadd -- $flags
                else
                    _files
                fi
            }
            compdef _kitt kitt

            """
    }
}
